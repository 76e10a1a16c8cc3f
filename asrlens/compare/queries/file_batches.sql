-- The first utt_id of each batch of :size files a run scored, in utt_id order: the bounds of
-- the batches `asrlens compare` reads the paired files in (paired_files.sql).
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :size     files per batch
with numbered as (
    select utt_id, row_number() over (order by utt_id) - 1 as nth
    from utterance_errors
    where run_id = :run_id
)

select utt_id from numbered where nth % :size = 0 order by utt_id
