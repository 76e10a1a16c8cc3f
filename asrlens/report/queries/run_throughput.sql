-- Speed of one run (:run_id): audio seconds against compute seconds over transcribed files.
with files as (
    select audio_s, compute_s
    from transcripts
    where run_id = :run_id and error is null
),

final as (
    select
        count(*)                                        as files,
        sum(audio_s)                                    as audio_s,
        sum(compute_s)                                  as compute_s,
        sum(compute_s) / nullif(sum(audio_s), 0)        as compute_rtf,
        quantile_cont(compute_s / nullif(audio_s, 0), 0.5) as median_file_rtf
    from files
)

select * from final
