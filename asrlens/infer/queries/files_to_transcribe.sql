-- The utterances a run covers: every labelled utterance of :dataset whose audio exists,
-- in utt_id order, the first :limit of them (NULL: all). root + audio_path is the file to read.
-- frames: what ingest read from the file's header (checked against the decoded length);
-- duration_s (from ingest, NULL when unknown) lets the loop sort files into batches by length;
-- audio_problem / audio_message: set when ingest found the file corrupt or empty, so the run
-- records it as skipped instead of scoring it.
-- start_s / end_s: the span of the recording to read (utterance_spans), NULL for a whole
-- file; frames and duration_s are then the span's.
with with_audio as (
    select u.utt_id, u.transcript, u.normalized_transcript, u.audio_path, d.root,
           coalesce(s.duration_s, a.duration_s) as duration_s,
           case when s.utt_id is null then a.frames else s.frames end as frames,
           s.start_s, s.end_s
    from utterances u
    join datasets d on d.name = u.dataset
    left join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    left join utterance_spans s on s.dataset = u.dataset and s.utt_id = u.utt_id
    where u.dataset = :dataset and u.audio_path is not null
),

unusable as (
    select path, min(kind) as audio_problem, string_agg(message, '; ') as audio_message
    from ingest_issues
    where dataset = :dataset and kind in ('corrupt_audio', 'empty_audio')
    group by path
),

final as (
    select w.*, x.audio_problem, x.audio_message
    from with_audio w
    left join unusable x on x.path = w.audio_path
    order by w.utt_id
    limit :limit
)

select * from final
