-- Per ingested dataset: labelled utterances and how many of them have readable audio.
with labelled as (
    select dataset, count(*) as utterances
    from utterances
    group by dataset
),

readable as (
    select u.dataset, count(*) as readable
    from utterances u
    join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    where a.sample_rate > 0 and a.frames > 0
    group by u.dataset
),

final as (
    select
        d.name as dataset,
        coalesce(l.utterances, 0) as utterances,
        coalesce(r.readable, 0) as readable
    from datasets d
    left join labelled l on l.dataset = d.name
    left join readable r on r.dataset = d.name
)

select * from final order by dataset
