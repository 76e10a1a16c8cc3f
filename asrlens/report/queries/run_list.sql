-- Every run in the database, most recent first (the report's default run is asrlens.catalog's).
with runs_by_recency as (
    select
        run_id, dataset, engine, model, checkpoint, checkpoint_sha256, normalizer,
        reference_column, device, precision, options, versions, status,
        started_at, finished_at, files_total, audio_s, wall_s
    from runs
),

final as (
    select * from runs_by_recency
    order by coalesce(finished_at, started_at) desc, run_id
)

select * from final
