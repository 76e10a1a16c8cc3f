-- Per-file audio statistics of a dataset (:dataset), for the distribution plots.
with final as (
    select path, utt_id, duration_s, rms_dbfs, peak_dbfs, silence_fraction, clipped_fraction
    from audio_files
    where dataset = :dataset and duration_s is not null
    order by path
)

select * from final
