-- Every label of a dataset with its audio statistics (NULL without audio): the input of
-- utterance_features, for the utterances from :lo
-- (NULL: the first) to before :hi (NULL: the last; asrlens/analysis/batches.py).
-- :dataset :lo :hi
-- A span of a recording (utterance_spans) has its own statistics, measured on the span.
with files as (
    select utt_id, path, duration_s, rms_dbfs, silence_fraction, clipped_fraction
    from audio_files
    where dataset = :dataset and utt_id is not null
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
    union all
    select utt_id, path, duration_s, rms_dbfs, silence_fraction, clipped_fraction
    from utterance_spans
    where dataset = :dataset
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
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
      and (cast(:lo as varchar) is null or u.utt_id >= :lo)
      and (cast(:hi as varchar) is null or u.utt_id < :hi)
)

select * from final order by utt_id
