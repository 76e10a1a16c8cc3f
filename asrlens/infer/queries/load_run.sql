-- The runs row of one run (none when the run id is unknown).
select * from runs where run_id = :run_id
