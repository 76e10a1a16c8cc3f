-- Every run of a dataset, newest first (by when it finished, else when it started): the run
-- history of `asrlens report --all-runs`.
-- Parameters:
--   :dataset   datasets.name
with summary as (
    select run_id, engine, model, normalizer, status, files_total, files_scored, files_failed,
           wer, strict_wer, real_time_factor, audio_hours
    from run_summary
    where dataset = :dataset
),

settings as (
    select run_id, started_at, finished_at, data_fingerprint, wall_s, audio_s
    from runs
    where dataset = :dataset
),

final as (
    select summary.*, settings.* exclude (run_id)
    from summary
    join settings using (run_id)
)

select * from final
order by coalesce(finished_at, started_at) desc, run_id
