-- Per-file audio statistics of a dataset (:dataset), for the distribution plots (fetched as
-- numpy columns: a few numbers per file; in no particular order, which the histograms and
-- counts do not need).
with final as (
    select duration_s, rms_dbfs, peak_dbfs, silence_fraction, clipped_fraction
    from audio_files
    where dataset = :dataset and duration_s is not null
)

select * from final
