-- A run's scored files with their raw texts: the recognizer's output as decoded and the
-- utterance's two reference columns, so `asrlens compare` can rescore the run under another
-- normalizer (the stored scores are under the run's own).
-- Parameters:
--   :run_id   the run (runs.run_id)
with scored as (
    select e.utt_id
    from utterance_errors as e
    where e.run_id = :run_id
),

final as (
    select
        s.utt_id,
        t.hyp_raw,
        u.transcript,
        u.normalized_transcript
    from scored as s
    join transcripts as t on t.run_id = :run_id and t.utt_id = s.utt_id
    join runs as r on r.run_id = :run_id
    join utterances as u on u.dataset = r.dataset and u.utt_id = s.utt_id
)

select * from final
order by utt_id
