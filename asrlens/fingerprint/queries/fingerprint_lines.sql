-- The lines a run's data fingerprint hashes, for the files from :first_utt_id to
-- :last_utt_id (one batch of fingerprint_batches): one line per file the run covers (its
-- transcripts rows, failed files included), 'utt_id|label sha256|audio sha256', in utt_id
-- order. asrlens.fingerprint hashes every batch's lines joined by newlines (sha256, hex), so
-- the order files were processed in does not matter. The label hash covers both reference
-- columns of the utterance (transcript and normalized_transcript), so runs that score a
-- different column or normalizer of the same labels share a fingerprint; the audio hash is the
-- file's audio_files.sha256 ('' when ingest has none). Recorded when a run ends, it keeps the
-- data as they were then.
-- Parameters:
--   :run_id        the run (runs.run_id)
--   :first_utt_id  the batch's first utt_id
--   :last_utt_id   the batch's last utt_id
with files as (
    select
        t.utt_id,
        sha256(coalesce(u.transcript, '') || chr(31) || coalesce(u.normalized_transcript, ''))
                                   as label_sha256,
        coalesce(a.sha256, '')     as audio_sha256
    from transcripts as t
    join runs as r using (run_id)
    left join utterances as u on u.dataset = r.dataset and u.utt_id = t.utt_id
        and u.utt_id between :first_utt_id and :last_utt_id
    left join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
    where t.run_id = :run_id and t.utt_id between :first_utt_id and :last_utt_id
),

final as (
    select utt_id || '|' || label_sha256 || '|' || audio_sha256 as line
    from files
    order by utt_id, label_sha256, audio_sha256
)

select * from final
