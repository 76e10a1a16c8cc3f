-- Per-file error counts of one run (:run_id): what the bootstrap resamples (files in utt_id
-- order, so a seed always draws the same files). Fetched as numpy columns (run_columns).
with final as (
    select
        e.ref_words, e.hyp_words, e.hits, e.substitutions, e.deletions, e.insertions,
        e.ref_chars,
        e.char_substitutions + e.char_deletions + e.char_insertions   as char_errors
    from utterance_errors as e
    where e.run_id = :run_id
    order by e.utt_id
)

select * from final
