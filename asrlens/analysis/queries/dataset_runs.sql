-- Every run of a dataset with its normalizer. :dataset
select run_id, normalizer
from runs
where dataset = :dataset
order by run_id
