-- How per-file WER is spread over a run's files, and how it moves with duration, speaking
-- rate and level (Pearson correlation over files; NULL when a column is constant).
-- Per-file figures describe files; the corpus WER (errors over all reference words) is in
-- the run_summary view, never the mean of these.
-- Parameters:
--   :run_id   the run (runs.run_id)
with run as (
    select run_id, dataset
    from runs
    where run_id = :run_id
),

scored as (
    select e.utt_id, e.wer, e.ref_words
    from utterance_errors as e
    join run using (run_id)
),

audio as (
    select u.utt_id, a.duration_s, a.rms_dbfs
    from utterances as u
    join run on u.dataset = run.dataset
    join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
),

files as (
    select
        s.wer,
        a.duration_s,
        s.ref_words / nullif(a.duration_s, 0) as words_per_s,
        a.rms_dbfs
    from scored as s
    left join audio as a using (utt_id)
),

final as (
    select
        count(*)                                       as files,
        count(wer)                                     as files_with_wer,
        count(*) filter (where wer = 0)                as perfect_files,
        count(*) filter (where wer >= 0.5)             as files_wer_over_half,
        count(*) filter (where wer > 1)                as files_wer_over_one,
        median(wer)                                    as median_wer,
        quantile_cont(wer, 0.9)                        as p90_wer,
        max(wer)                                       as max_wer,
        corr(wer, duration_s)                          as corr_duration,
        corr(wer, words_per_s)                         as corr_words_per_s,
        corr(wer, rms_dbfs)                            as corr_rms_dbfs,
        (select wer from run_summary where run_id = :run_id) as corpus_wer
    from files
)

select * from final
