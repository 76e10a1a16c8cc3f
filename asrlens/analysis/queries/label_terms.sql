-- One labels column of a dataset, per utterance (the keywords of `--keywords label:NAME`),
-- for the utterances from :lo to before :hi (run_ops.sql). :dataset :column :lo :hi
select utt_id, value
from utterance_labels
where dataset = :dataset and name = :column and value is not null
  and (cast(:lo as varchar) is null or utt_id >= :lo)
  and (cast(:hi as varchar) is null or utt_id < :hi)
order by utt_id
