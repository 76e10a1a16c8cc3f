-- The files a run covers (its transcripts rows) cut into batches of :batch_files files in
-- utt_id order: each batch's first and last utt_id and its file count.
-- Parameters:
--   :run_id        the run (runs.run_id)
--   :batch_files   files per batch
with files as (
    select utt_id, (row_number() over (order by utt_id) - 1) // :batch_files as batch
    from transcripts
    where run_id = :run_id
),

final as (
    select min(utt_id) as first_utt_id, max(utt_id) as last_utt_id, count(*) as files
    from files
    group by batch
    order by batch
)

select * from final
