-- Files scored in one run: how many, for the count of files each comparison leaves out.
-- Parameters:
--   :run_id   the run (runs.run_id)
with final as (
    select count(*) as files
    from utterance_errors
    where run_id = :run_id
)

select * from final
