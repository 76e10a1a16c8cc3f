-- Files of one run (:run_id) that could not be transcribed, with the reason (first :limit).
with failed as (
    select t.utt_id, t.error, u.audio_path
    from transcripts t
    join runs r using (run_id)
    left join utterances u on u.dataset = r.dataset and u.utt_id = t.utt_id
    where t.run_id = :run_id and t.error is not null
),

final as (
    select * from failed
    order by utt_id
    limit :limit
)

select * from final
