-- The keyword terms of a dataset: utt_id NULL for a term of every file; of the files' own
-- terms, those of the utterances from :lo to before :hi only (run_ops.sql). :dataset :lo :hi
select term, utt_id
from keywords
where dataset = :dataset
  and (utt_id is null or ((cast(:lo as varchar) is null or utt_id >= :lo)
                          and (cast(:hi as varchar) is null or utt_id < :hi)))
order by term, utt_id
