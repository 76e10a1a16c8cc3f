-- Per-file error counts of one run (:run_id): what the bootstrap resamples.
with final as (
    select
        utt_id,
        ref_words, hyp_words, hits, substitutions, deletions, insertions,
        substitutions + deletions + insertions                  as errors,
        ref_chars,
        char_substitutions + char_deletions + char_insertions   as char_errors
    from utterance_errors
    where run_id = :run_id
    order by utt_id
)

select * from final
