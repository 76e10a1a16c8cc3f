-- The utterances an import covers cut into batches of :batch_files in utt_id order: each
-- batch's first and last utt_id.
with covered as (
    select utt_id, (row_number() over (order by utt_id) - 1) // :batch_files as batch
    from import_covered
),

final as (
    select min(utt_id) as first_utt_id, max(utt_id) as last_utt_id
    from covered
    group by batch
    order by batch
)

select * from final
