-- A run's hallucination signals summed over its files (view hallucination_summary). :run_id
select * from hallucination_summary where run_id = :run_id
