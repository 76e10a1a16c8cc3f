-- The data fingerprint of one run: what it was scored on, as one sha256 (hex) over every file
-- the run covers (its transcripts rows, failed files included), each as
-- 'utt_id|label sha256|audio sha256', sorted, so the order files were processed in does not
-- matter. The label hash covers both reference columns of the utterance (transcript and
-- normalized_transcript), so runs that score a different column or normalizer of the same
-- labels share a fingerprint; the audio hash is the file's audio_files.sha256 ('' when ingest
-- has none). Recorded when a run ends, it keeps the data as they were then.
-- Parameters:
--   :run_id   the run (runs.run_id)
with files as (
    select
        t.utt_id,
        sha256(coalesce(u.transcript, '') || chr(31) || coalesce(u.normalized_transcript, ''))
                                   as label_sha256,
        coalesce(a.sha256, '')     as audio_sha256
    from transcripts as t
    join runs as r using (run_id)
    left join utterances as u on u.dataset = r.dataset and u.utt_id = t.utt_id
    left join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
    where t.run_id = :run_id
),

final as (
    select
        count(*) as files,
        case when count(*) = 0 then null else sha256(string_agg(
            utt_id || '|' || label_sha256 || '|' || audio_sha256, chr(10)
            order by utt_id, label_sha256, audio_sha256)) end as fingerprint
    from files
)

select * from final
