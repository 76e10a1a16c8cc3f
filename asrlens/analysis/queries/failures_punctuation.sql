-- A run's punctuation figures per mark and over all marks (mark NULL first), NeMo's
-- punct_er (view punctuation_summary). :run_id
select * from punctuation_summary where run_id = :run_id order by mark nulls first
