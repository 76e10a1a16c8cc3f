-- The row a `--group-by sql:EXPR` expression is evaluated on, one per utterance of :dataset:
-- the utterances columns (utt_id, transcript, normalized_transcript, audio_path, labels_line,
-- speaker), the audio facts of its file, or of its span for a span of a recording
-- (duration_s, sample_rate, rms_dbfs, ...), and `labels`, a MAP of its extra labels-file
-- columns (labels['accent']).
-- Parameters:
--   :dataset  datasets.name
with extra as (
    select utt_id, map(list(name order by name), list(value order by name)) as labels
    from utterance_labels
    where dataset = :dataset
    group by utt_id
),

final as (
    select
        u.utt_id,
        u.transcript,
        u.normalized_transcript,
        u.audio_path,
        u.labels_line,
        u.speaker,
        a.format,
        a.sample_rate,
        a.channels,
        coalesce(s.duration_s, a.duration_s) as duration_s,
        coalesce(s.peak_dbfs, a.peak_dbfs) as peak_dbfs,
        coalesce(s.rms_dbfs, a.rms_dbfs) as rms_dbfs,
        coalesce(s.clipped_fraction, a.clipped_fraction) as clipped_fraction,
        coalesce(s.silence_fraction, a.silence_fraction) as silence_fraction,
        coalesce(x.labels, map([]::varchar[], []::varchar[])) as labels
    from utterances as u
    left join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
    left join utterance_spans as s on s.dataset = u.dataset and s.utt_id = u.utt_id
    left join extra as x on x.utt_id = u.utt_id
    where u.dataset = :dataset
)

select * from final
