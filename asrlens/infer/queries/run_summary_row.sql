-- The run_summary row of one run: corpus WER and the other figures infer reports.
select * from run_summary where run_id = :run_id
