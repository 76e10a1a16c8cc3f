-- The :skip-th (from 0) of the utterances readable_utterances.sql lists for :dataset (NULL:
-- every dataset), in its order, and how many it lists: a seeded pick fetches one file's key,
-- not every file's row (a million labels are a gigabyte as rows). No row when :skip is past
-- the end.
with readable as (
    select u.dataset, u.utt_id
    from utterances u
    join datasets d on d.name = u.dataset
    join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    where a.sample_rate > 0
      and a.frames > 0
      and (cast(:dataset as varchar) is null or u.dataset = cast(:dataset as varchar))
),

final as (
    select dataset, utt_id, (select count(*) from readable) as readable
    from readable
    order by dataset, utt_id
    limit 1 offset :skip
)

select * from final
