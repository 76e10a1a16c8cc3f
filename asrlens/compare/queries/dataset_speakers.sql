-- The distinct speakers of a dataset (utterances.speaker, empty ones left out): the clusters
-- of the speaker bootstrap are numbered in their order.
-- Parameters:
--   :dataset  datasets.name
select distinct speaker
from utterances
where dataset = :dataset and speaker <> ''
