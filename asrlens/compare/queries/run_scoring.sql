-- How a run was scored: its normalizer and word alignment mode.
-- Parameters:
--   :run_id   the run (runs.run_id)
with final as (
    select run_id, normalizer, coalesce(alignment, 'unit') as alignment
    from runs
    where run_id = :run_id
)

select * from final
