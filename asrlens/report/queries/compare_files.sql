-- Every file both runs scored, with its WER in each: the data behind the WER-against-WER
-- scatter of the comparison (points above the diagonal got worse in :run_b), in utt_id order,
-- fetched as numpy columns.
-- Parameters:
--   :run_a   the baseline run (runs.run_id)
--   :run_b   the run compared with it
with a as (
    select utt_id, wer
    from utterance_errors
    where run_id = :run_a
),

b as (
    select utt_id, wer
    from utterance_errors
    where run_id = :run_b
),

final as (
    select a.wer as wer_a, b.wer as wer_b
    from a
    join b using (utt_id)
    order by utt_id
)

select * from final
