-- Each scored file's word alignment as one letter per aligned word, in order, as sclite
-- writes it: C (correct), S (substitution), D (deletion), I (insertion). MAPSSWE walks these.
-- A file whose alignment is empty (both texts empty) has path ''.
-- Parameters:
--   :run_id   the run (runs.run_id)
with ops as (
    select
        utt_id,
        op_index,
        case op
            when 'equal' then 'C'
            when 'substitute' then 'S'
            when 'delete' then 'D'
            when 'insert' then 'I'
        end as letter
    from alignment_ops
    where run_id = :run_id
),

final as (
    select e.utt_id, coalesce(string_agg(o.letter, '' order by o.op_index), '') as path
    from utterance_errors as e
    left join ops as o using (utt_id)
    where e.run_id = :run_id
    group by e.utt_id
)

select * from final
order by utt_id
