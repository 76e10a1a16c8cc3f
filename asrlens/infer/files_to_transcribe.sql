-- The utterances a run covers: every labelled utterance of :dataset whose audio exists,
-- in utt_id order, the first :limit of them (NULL: all). root + audio_path is the file to read.
with with_audio as (
    select u.utt_id, u.transcript, u.normalized_transcript, u.audio_path, d.root
    from utterances u
    join datasets d on d.name = u.dataset
    where u.dataset = :dataset and u.audio_path is not null
),

final as (
    select * from with_audio order by utt_id limit :limit
)

select * from final
