-- The keyword terms of a dataset: utt_id NULL for a term of every file. :dataset
select term, utt_id
from keywords
where dataset = :dataset
order by term, utt_id
