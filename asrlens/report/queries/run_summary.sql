-- Corpus-level figures of one run (:run_id) from the run_summary view, with its settings.
with summary as (
    select * from run_summary where run_id = :run_id
),

settings as (
    select run_id, checkpoint, checkpoint_sha256, reference_column, options, versions,
           started_at, finished_at, audio_s, source_path, data_fingerprint
    from runs
    where run_id = :run_id
),

final as (
    select summary.*, settings.* exclude (run_id)
    from summary
    join settings using (run_id)
)

select * from final
