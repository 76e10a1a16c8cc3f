-- Why the :top_n worst files fail, as asrlens analyze sees it: for each file (ranked as in
-- worst_files.sql), its error tags with the number of ops carrying each. Empty until
-- `asrlens analyze` has run.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :top_n    how many files
with scored as (
    select e.*, e.substitutions + e.deletions + e.insertions as errors
    from utterance_errors as e
    where e.run_id = :run_id
),

ranked as (
    select
        *,
        row_number() over (order by wer desc nulls last, errors desc, utt_id) as rank
    from scored
),

worst as (
    select utt_id, rank from ranked where rank <= :top_n
),

final as (
    select w.rank, t.utt_id, t.tag, count(*) as ops
    from op_tags as t
    join worst as w using (utt_id)
    where t.run_id = :run_id
    group by w.rank, t.utt_id, t.tag
)

select * from final
order by rank, ops desc, tag
