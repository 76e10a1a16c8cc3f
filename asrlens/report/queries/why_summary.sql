-- The written summary of a run's analysis, in order. :run_id
select position, topic, sentence
from analysis_summary
where run_id = :run_id
order by position
