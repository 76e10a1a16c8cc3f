-- The files whose WER changed most from run :run_a to run :run_b: the :top_n largest
-- |WER_b - WER_a| over files both runs scored (then by utt_id), with both hypotheses.
-- A negative delta is an improvement.
-- Parameters:
--   :run_a   the baseline run (runs.run_id)
--   :run_b   the run compared with it
--   :top_n   how many files
with shared as (
    select
        a.utt_id,
        a.wer                                          as wer_a,
        b.wer                                          as wer_b,
        a.substitutions + a.deletions + a.insertions   as errors_a,
        b.substitutions + b.deletions + b.insertions   as errors_b,
        b.wer - a.wer                                  as delta
    from utterance_errors as a
    join utterance_errors as b using (utt_id)
    where a.run_id = :run_a and b.run_id = :run_b
),

ranked as (
    select *, row_number() over (order by abs(delta) desc nulls last, utt_id) as rank
    from shared
),

final as (
    select
        r.rank,
        r.utt_id,
        r.wer_a,
        r.wer_b,
        r.delta,
        r.errors_a,
        r.errors_b,
        ta.ref_norm,
        ta.hyp_norm as hyp_a,
        tb.hyp_norm as hyp_b
    from ranked as r
    join transcripts as ta on ta.run_id = :run_a and ta.utt_id = r.utt_id
    join transcripts as tb on tb.run_id = :run_b and tb.utt_id = r.utt_id
    where r.rank <= :top_n
)

select * from final
order by rank
