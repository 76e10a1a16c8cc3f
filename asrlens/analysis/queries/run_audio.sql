-- The audio file of each utterance of a run's dataset, as an absolute path. :dataset
with final as (
    select u.utt_id, d.root || '/' || u.audio_path as audio
    from utterances u
    join datasets d on d.name = u.dataset
    where u.dataset = :dataset and u.audio_path is not null
)

select * from final
