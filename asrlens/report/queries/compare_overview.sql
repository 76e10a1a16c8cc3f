-- Run :run_b against run :run_a, file by file: how many files both scored, how many got
-- better or worse, and each run's corpus WER over exactly those shared files (a fair
-- comparison when the runs cover different files), each over its own reference words (the
-- runs may normalize the references differently).
-- Parameters:
--   :run_a   the baseline run (runs.run_id)
--   :run_b   the run compared with it
with a as (
    select utt_id, wer, ref_words, substitutions + deletions + insertions as errors
    from utterance_errors
    where run_id = :run_a
),

b as (
    select utt_id, wer, ref_words, substitutions + deletions + insertions as errors
    from utterance_errors
    where run_id = :run_b
),

shared as (
    select
        a.utt_id,
        a.wer    as wer_a,
        b.wer    as wer_b,
        a.errors    as errors_a,
        b.errors    as errors_b,
        a.ref_words as ref_words_a,
        b.ref_words as ref_words_b
    from a
    join b using (utt_id)
),

final as (
    select
        (select count(*) from a)                             as files_a,
        (select count(*) from b)                             as files_b,
        count(*)                                             as files_shared,
        count(*) filter (where wer_b < wer_a)                as files_better,
        count(*) filter (where wer_b > wer_a)                as files_worse,
        count(*) filter (where wer_b = wer_a)                as files_unchanged,
        sum(errors_a) / nullif(sum(ref_words_a), 0)          as wer_a_shared,
        sum(errors_b) / nullif(sum(ref_words_b), 0)          as wer_b_shared
    from shared
)

select * from final
