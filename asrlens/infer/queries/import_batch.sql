-- One batch of the utterances an import covers (import_batches), in utt_id order, with
-- their reference columns and hypothesis (hyp and line NULL: none).
with final as (
    select c.utt_id, c.line, c.hyp, c.duration_s, u.transcript, u.normalized_transcript
    from import_covered c
    join utterances u on u.dataset = :dataset and u.utt_id = c.utt_id
    where c.utt_id between :first_utt_id and :last_utt_id
        and u.utt_id between :first_utt_id and :last_utt_id
    order by c.utt_id
)

select * from final
