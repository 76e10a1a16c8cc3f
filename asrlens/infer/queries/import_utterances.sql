-- Every labelled utterance of :dataset with what matching a hypothesis file needs: its audio
-- path (NULL when missing), the dataset root, and its duration (NULL when unreadable).
with labelled as (
    select u.utt_id, u.transcript, u.normalized_transcript, u.audio_path, d.root,
           a.duration_s
    from utterances u
    join datasets d on d.name = u.dataset
    left join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    where u.dataset = :dataset
),

final as (
    select * from labelled order by utt_id
)

select * from final
