-- The figures the report's summary gives for each run (:run_ids, a list): the run_summary
-- view's corpus figures, when the run finished, and its data fingerprint.
-- Parameters:
--   :run_ids   the runs, a list (order kept by the caller)
with summary as (
    select run_id, dataset, engine, model, normalizer, status, files_total, files_scored,
           files_failed, files_not_attempted, ref_words, wer, strict_wer, real_time_factor
    from run_summary
    where list_contains(:run_ids, run_id)
),

settings as (
    select run_id, started_at, finished_at, data_fingerprint
    from runs
    where list_contains(:run_ids, run_id)
),

final as (
    select summary.*, settings.* exclude (run_id)
    from summary
    join settings using (run_id)
)

select * from final
