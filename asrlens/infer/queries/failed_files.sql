-- The files of a run that hold an error now, by utt_id.
select utt_id, error
from transcripts
where run_id = :run_id and error is not null
order by utt_id
