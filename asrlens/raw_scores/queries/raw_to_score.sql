-- The scored files of run :run_id from :first_utt_id to :last_utt_id (one batch of
-- raw_batches) with the texts their raw (minimal-normalization) score comes from, and the
-- texts of the raw score already stored (NULL when there is none).
with scored as (
    select t.run_id, t.utt_id, t.hyp_raw, u.transcript
    from transcripts t
    join runs r on r.run_id = t.run_id
    join utterances u on u.dataset = r.dataset and u.utt_id = t.utt_id
    where t.run_id = :run_id and t.error is null
        and t.utt_id between :first_utt_id and :last_utt_id
        and u.utt_id between :first_utt_id and :last_utt_id
),

final as (
    select s.utt_id, s.transcript, s.hyp_raw, x.ref_text, x.hyp_text
    from scored s
    left join raw_errors x on x.run_id = s.run_id and x.utt_id = s.utt_id
        and x.utt_id between :first_utt_id and :last_utt_id
    order by s.utt_id
)

select * from final
