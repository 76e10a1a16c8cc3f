-- Every file both runs scored, with each run's counts over its own normalized reference:
-- the pairs behind `asrlens compare` (McNemar, the bootstrap, the per-group tests).
-- Parameters:
--   :run_a   the baseline run (runs.run_id)
--   :run_b   the run compared with it
with a as (
    select utt_id, ref_words, substitutions, deletions, insertions
    from utterance_errors
    where run_id = :run_a
),

b as (
    select utt_id, ref_words, substitutions, deletions, insertions
    from utterance_errors
    where run_id = :run_b
),

final as (
    select
        a.utt_id,
        a.ref_words                                     as ref_words_a,
        a.substitutions + a.deletions + a.insertions    as errors_a,
        b.ref_words                                     as ref_words_b,
        b.substitutions + b.deletions + b.insertions    as errors_b
    from a
    join b using (utt_id)
)

select * from final
order by utt_id
