-- The utterances a run has alignment ops for, in utt_id order (analyze's batches). :run_id
select distinct utt_id
from alignment_ops
where run_id = :run_id
order by utt_id
