-- Why an utterance cannot be explored: its audio path, whether ingest read the file, and
-- the first ingest issue recorded for it. Parameters: :utt_id, :dataset (NULL: any dataset).
with matching as (
    select u.dataset, u.utt_id, u.audio_path
    from utterances u
    where u.utt_id = cast(:utt_id as varchar)
      and (cast(:dataset as varchar) is null or u.dataset = cast(:dataset as varchar))
),

issues as (
    select dataset, utt_id, min(kind || ': ' || message) as issue
    from ingest_issues
    where utt_id = cast(:utt_id as varchar)
    group by dataset, utt_id
),

final as (
    select m.dataset, m.utt_id, m.audio_path, i.issue
    from matching m
    left join issues i on i.dataset = m.dataset and i.utt_id = m.utt_id
)

select * from final order by dataset
