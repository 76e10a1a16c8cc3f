-- Why the worst files fail, as asrlens analyze sees it: for each file (worst_files.sql picks
-- and ranks them), its error tags with the number of ops carrying each. Empty until
-- `asrlens analyze` has run.
-- Parameters:
--   :run_id    the run (runs.run_id)
--   :utt_ids   the files, a list in rank order (worst_files.sql's utt_id column)
with final as (
    select list_position(:utt_ids, t.utt_id) as rank, t.utt_id, t.tag, count(*) as ops
    from op_tags as t
    where t.run_id = :run_id and list_contains(:utt_ids, t.utt_id)
    group by t.utt_id, t.tag
)

select * from final
order by rank, ops desc, tag
