-- One run's corpus figures, for the side-by-side comparison table: a row of run_summary
-- (rates are totals over files, never means of per-file rates).
-- Parameters:
--   :run_id   the run (runs.run_id)
with final as (
    select *
    from run_summary
    where run_id = :run_id
)

select * from final
