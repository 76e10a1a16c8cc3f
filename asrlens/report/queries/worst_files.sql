-- The files a run gets most wrong: the :top_n highest word error rates, ties broken by the
-- larger error count (then by utt_id, so the list is stable). Files whose reference is empty
-- (WER undefined) come last.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :top_n    how many files to list
with run as (
    select run_id, dataset
    from runs
    where run_id = :run_id
),

scored as (
    select e.*, e.substitutions + e.deletions + e.insertions as errors
    from utterance_errors as e
    join run using (run_id)
),

ranked as (
    select
        *,
        row_number() over (order by wer desc nulls last, errors desc, utt_id) as rank
    from scored
),

worst as (
    select * from ranked where rank <= :top_n
),

final as (
    select
        w.rank,
        w.utt_id,
        coalesce(s.duration_s, a.duration_s) as duration_s,
        u.audio_path,
        s.start_s,  -- a span of a recording (utterance_spans): what the player plays
        s.end_s,
        w.wer,
        w.errors,
        w.ref_words,
        w.hyp_words,
        w.hits,
        w.substitutions,
        w.deletions,
        w.insertions,
        w.cer,
        t.ref_raw,
        t.ref_norm,
        t.hyp_raw,
        t.hyp_norm
    from worst as w
    join run on true
    join transcripts as t on t.run_id = w.run_id and t.utt_id = w.utt_id
    left join utterances as u on u.dataset = run.dataset and u.utt_id = w.utt_id
    left join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
    left join utterance_spans as s on s.dataset = u.dataset and s.utt_id = u.utt_id
)

select * from final
order by rank
