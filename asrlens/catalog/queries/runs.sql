-- Every run, most recent first: a finished run by when it finished, any other by when it
-- started (asrlens.catalog picks the default run from this order).
with final as (
    select run_id, dataset, status, started_at, finished_at
    from runs
)

select * from final order by coalesce(finished_at, started_at) desc, run_id
