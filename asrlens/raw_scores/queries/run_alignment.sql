-- How a run aligns words ('unit' for runs stored before alignment was recorded).
select coalesce(alignment, 'unit') as alignment
from runs
where run_id = :run_id
