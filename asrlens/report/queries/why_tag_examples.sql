-- A few examples of each error tag, each with the alignment around it: :window ops either
-- side of the tagged op. Examples are picked in a fixed pseudo-random order (md5 of the op's
-- key, salted with :seed), at most one per utterance and tag. :run_id :per_tag :window :seed
with candidates as (
    select
        t.tag, t.utt_id, t.op_index,
        row_number() over (partition by t.tag, t.utt_id
                           order by md5(t.utt_id || ':' || t.op_index || ':' || :seed)) as nth_in_utt
    from op_tags t
    where t.run_id = :run_id
),

picked as (
    select
        tag, utt_id, op_index,
        row_number() over (partition by tag
                           order by md5(utt_id || ':' || op_index || ':' || :seed)) as example
    from candidates
    where nth_in_utt = 1
),

final as (
    select
        p.tag, p.example, p.utt_id, p.op_index as focus_index,
        o.op_index, o.op, o.ref_word, o.hyp_word
    from picked p
    join alignment_ops o
        on o.run_id = :run_id and o.utt_id = p.utt_id
        and o.op_index between p.op_index - :window and p.op_index + :window
    where p.example <= :per_tag
)

select * from final order by tag, example, op_index
