-- Per-file error counts of one run (:run_id): what the bootstrap resamples. speaker: the
-- file's utterances.speaker (NULL when unknown): when any is known, speakers are resampled.
with final as (
    select
        e.utt_id,
        e.ref_words, e.hyp_words, e.hits, e.substitutions, e.deletions, e.insertions,
        e.substitutions + e.deletions + e.insertions                  as errors,
        e.ref_chars,
        e.char_substitutions + e.char_deletions + e.char_insertions   as char_errors,
        u.speaker
    from utterance_errors as e
    join runs as r on r.run_id = e.run_id
    left join utterances as u on u.dataset = r.dataset and u.utt_id = e.utt_id
    where e.run_id = :run_id
    order by e.utt_id
)

select * from final
