-- How many of a run's errors carry each tag, and which share of all errors that is (an op may
-- carry several tags, so shares add up to more than 1). The row with tag NULL counts errors
-- with no tag at all. :run_id
with errors as (
    select utt_id, op_index
    from alignment_ops
    where run_id = :run_id and op <> 'equal'
),

tagged as (
    select tag, count(*) as ops
    from op_tags
    where run_id = :run_id
    group by tag
),

untagged as (
    select null::VARCHAR as tag, count(*) as ops
    from errors e
    anti join op_tags t
        on t.run_id = :run_id and t.utt_id = e.utt_id and t.op_index = e.op_index
),

final as (
    select
        s.tag, s.ops,
        (select count(*) from errors) as errors,
        s.ops / nullif((select count(*) from errors), 0) as share
    from (select * from tagged union all select * from untagged) s
)

select * from final order by tag is null, ops desc, tag
