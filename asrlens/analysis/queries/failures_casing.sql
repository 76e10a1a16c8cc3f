-- A run's casing error rate and whether it writes case and punctuation (view casing_summary).
-- :run_id
select * from casing_summary where run_id = :run_id
