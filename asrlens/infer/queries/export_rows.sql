-- One row per file of run :run_id, in utt_id order: texts of both sides, timing, the error
-- (NULL when transcribed) and the error counts and rates of utterance_errors (NULL when not).
with files as (
    select
        t.run_id, t.utt_id, t.audio_s, t.compute_s, t.error,
        t.ref_raw, t.ref_norm, t.hyp_raw, t.hyp_norm,
        e.ref_words, e.hyp_words, e.hits, e.substitutions, e.deletions, e.insertions,
        e.wer, e.mer, e.wil, e.wip,
        e.ref_chars, e.hyp_chars, e.char_hits, e.char_substitutions, e.char_deletions,
        e.char_insertions, e.cer
    from transcripts t
    left join utterance_errors e on e.run_id = t.run_id and e.utt_id = t.utt_id
    where t.run_id = :run_id
),

final as (
    select * from files order by utt_id
)

select * from final
