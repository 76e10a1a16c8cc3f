-- Every run, by run_id.
select run_id from runs order by run_id
