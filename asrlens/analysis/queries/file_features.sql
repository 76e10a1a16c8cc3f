-- One row per scored file of a run: its errors and its features (the input of
-- feature_effects and feature_correlations). :run_id
with final as (
    select
        e.utt_id,
        e.substitutions + e.deletions + e.insertions as errors,
        e.ref_words as scored_ref_words,
        e.wer,
        f.* exclude (dataset, utt_id)
    from utterance_errors e
    join runs r on r.run_id = e.run_id
    join utterance_features f on f.dataset = r.dataset and f.utt_id = e.utt_id
    where e.run_id = :run_id and e.ref_words > 0
)

select * from final order by utt_id
