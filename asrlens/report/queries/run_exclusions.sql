-- Why files of one run (:run_id) are left out of its WER: failed files grouped by the kind
-- of error (the message up to its first ':', or the whole message when it has none), with
-- the reference words they hold (run_summary.strict_wer counts them as deletions).
with failed as (
    select
        case when error like 'no hypothesis for %' then 'no hypothesis in the imported file'
             else split_part(error, ':', 1) end as reason,
        case when coalesce(ref_norm, '') = '' then 0
             else len(string_split(ref_norm, ' ')) end as ref_words,
        utt_id
    from transcripts
    where run_id = :run_id and error is not null
),

final as (
    select reason, count(*) as files, sum(ref_words) as ref_words, min(utt_id) as example
    from failed
    group by reason
    order by files desc, reason
)

select * from final
