-- A run's error ops and the distinct words involved, to put the pattern tables in scale
-- (e.g. "the 15 pairs below are 30% of all substitutions"). Also the number of reference
-- words, from which the report picks the least count for per-word error rates.
-- Parameters:
--   :run_id   the run (runs.run_id)
with ops as (
    select op, ref_word, hyp_word
    from alignment_ops
    where run_id = :run_id
),

final as (
    select
        count(*) filter (where op = 'substitute')                         as substitutions,
        count(*) filter (where op = 'delete')                             as deletions,
        count(*) filter (where op = 'insert')                             as insertions,
        count(*) filter (where ref_word is not null)                      as ref_words,
        count(distinct ref_word)                                          as distinct_ref_words,
        count(distinct (ref_word, hyp_word)) filter (where op = 'substitute')
                                                                          as distinct_pairs
    from ops
)

select * from final
