-- Per-file WER beside what might explain it: duration, speaking rate and level.
-- Answers: do long, fast or quiet files fail more often? One row per scored file, in utt_id
-- order (fetched as numpy columns).
-- Parameters:
--   :run_id   the run (runs.run_id)
-- words_per_s is the speaking rate: words in the normalized reference per second of audio.
with run as (
    select run_id, dataset
    from runs
    where run_id = :run_id
),

scored as (
    select
        e.utt_id,
        e.wer,
        e.ref_words,
        e.substitutions + e.deletions + e.insertions as errors
    from utterance_errors as e
    join run using (run_id)
),

audio as (
    select u.utt_id, a.duration_s, a.rms_dbfs
    from utterances as u
    join run on u.dataset = run.dataset
    join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
),

final as (
    select
        s.wer,
        s.errors,
        s.ref_words,
        a.duration_s,
        s.ref_words / nullif(a.duration_s, 0) as words_per_s,
        a.rms_dbfs
    from scored as s
    left join audio as a using (utt_id)
    order by s.utt_id
)

select * from final
