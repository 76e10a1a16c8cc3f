-- Every label of a dataset with its audio statistics (NULL without audio): the input of
-- utterance_features. :dataset
-- A span of a recording (utterance_spans) has its own statistics, measured on the span.
with files as (
    select utt_id, path, duration_s, rms_dbfs, silence_fraction, clipped_fraction
    from audio_files
    where dataset = :dataset and utt_id is not null
    union all
    select utt_id, path, duration_s, rms_dbfs, silence_fraction, clipped_fraction
    from utterance_spans
    where dataset = :dataset
),

audio as (
    select
        utt_id, duration_s, rms_dbfs, silence_fraction, clipped_fraction,
        row_number() over (partition by utt_id order by path) as nth
    from files
),

final as (
    select
        u.utt_id, u.transcript, u.normalized_transcript,
        a.duration_s, a.rms_dbfs, a.silence_fraction, a.clipped_fraction
    from utterances u
    left join audio a on a.utt_id = u.utt_id and a.nth = 1
    where u.dataset = :dataset
)

select * from final order by utt_id
