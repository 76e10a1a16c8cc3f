-- A run's errors and formatting-only errors per scoring and kind (view formatting_summary;
-- kind NULL: all kinds). :run_id
select * from formatting_summary
where run_id = :run_id
order by scoring desc, kind nulls first
