-- The scored files of run :run_id cut into batches of :batch_files files in utt_id order:
-- each batch's first and last utt_id (raw_to_score reads one batch at a time).
with scored as (
    select utt_id, (row_number() over (order by utt_id) - 1) // :batch_files as batch
    from transcripts
    where run_id = :run_id and error is null
),

final as (
    select min(utt_id) as first_utt_id, max(utt_id) as last_utt_id
    from scored
    group by batch
    order by batch
)

select * from final
