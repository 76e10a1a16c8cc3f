-- What one run (:run_id) made of one file (:utt_id): both texts, normalized, and its scores.
with transcript as (
    select utt_id, ref_norm, hyp_norm, hyp_raw, error
    from transcripts
    where run_id = :run_id and utt_id = :utt_id
),

final as (
    select t.*, e.wer, e.substitutions, e.deletions, e.insertions, e.ref_words
    from transcript t
    left join utterance_errors e on e.run_id = :run_id and e.utt_id = t.utt_id
)

select * from final
