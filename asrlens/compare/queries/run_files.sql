-- Every file a run scored, with its counts: the data behind per-group results.
-- Parameters:
--   :run_id   the run (runs.run_id)
with final as (
    select utt_id, ref_words, substitutions, deletions, insertions
    from utterance_errors
    where run_id = :run_id
)

select * from final
order by utt_id
