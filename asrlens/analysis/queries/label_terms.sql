-- One labels column of a dataset, per utterance (the keywords of `--keywords label:NAME`).
-- :dataset :column
select utt_id, value
from utterance_labels
where dataset = :dataset and name = :column and value is not null
order by utt_id
