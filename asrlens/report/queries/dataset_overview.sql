-- One row of headline counts for a dataset (:dataset): labels, audio files, hours.
with labels as (
    select
        count(*)                                  as utterances,
        count(audio_path)                         as utterances_with_audio,
        count(*) - count(audio_path)              as utterances_without_audio
    from utterances
    where dataset = :dataset
),

audio as (
    select
        count(*)                                  as files,
        count(duration_s)                         as files_readable,
        count(*) filter (where utt_id is null)    as files_unlabelled,
        coalesce(sum(duration_s), 0) / 3600.0     as hours,
        min(duration_s)                           as min_duration_s,
        median(duration_s)                        as median_duration_s,
        max(duration_s)                           as max_duration_s,
        coalesce(sum(bytes), 0)                   as bytes
    from audio_files
    where dataset = :dataset
),

issues as (
    select count(*) as issues
    from ingest_issues
    where dataset = :dataset
),

final as (
    select d.name as dataset, d.source, d.root, d.labels_path, d.labels_format, d.ingested_at,
           labels.*, audio.*, issues.*
    from datasets d, labels, audio, issues
    where d.name = :dataset
)

select * from final
