-- Files per speaker of a dataset (:dataset), for the Speakers section: utterances, those with
-- audio, and how many of them run :run_id scored. Only utterances with a known speaker.
with per_speaker as (
    select
        u.speaker,
        count(*)                                            as utterances,
        count(u.audio_path)                                 as with_audio,
        count(e.utt_id)                                     as scored
    from utterances as u
    left join utterance_errors as e on e.run_id = :run_id and e.utt_id = u.utt_id
    where u.dataset = :dataset and u.speaker is not null
    group by u.speaker
),

final as (
    select * from per_speaker
)

select * from final order by speaker
