-- Audio formats of a dataset (:dataset): files and hours per container, encoding, rate, channels.
with readable as (
    select format, subtype, sample_rate, channels, duration_s
    from audio_files
    where dataset = :dataset and format is not null
),

final as (
    select
        format, subtype, sample_rate, channels,
        count(*)                     as files,
        sum(duration_s) / 3600.0     as hours
    from readable
    group by all
    order by files desc, format, subtype, sample_rate, channels
)

select * from final
