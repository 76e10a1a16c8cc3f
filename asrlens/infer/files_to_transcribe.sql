-- The utterances a run covers: every labelled utterance of :dataset whose audio exists,
-- in utt_id order, the first :limit of them (NULL: all). root + audio_path is the file to read;
-- duration_s (from ingest, NULL when unknown) lets the loop sort files into batches by length.
with with_audio as (
    select u.utt_id, u.transcript, u.normalized_transcript, u.audio_path, d.root,
           a.duration_s
    from utterances u
    join datasets d on d.name = u.dataset
    left join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    where u.dataset = :dataset and u.audio_path is not null
),

final as (
    select * from with_audio order by utt_id limit :limit
)

select * from final
