-- The error tags that carry the largest share of a run's errors (asrlens analyze's op_tags),
-- strongest first: the likely reasons the summary names. An error may carry several tags,
-- so shares add up to more than 1.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :limit    how many tags
with errors as (
    select count(*) as errors
    from alignment_ops
    where run_id = :run_id and op <> 'equal'
),

tagged as (
    select tag, count(*) as ops
    from op_tags
    where run_id = :run_id
    group by tag
),

final as (
    select t.tag, t.ops, e.errors, t.ops / nullif(e.errors, 0) as share
    from tagged as t
    cross join errors as e
)

select * from final
order by ops desc, tag
limit :limit
