-- Which reference words does the recognizer drop? The :top_n most deleted words of a run,
-- with the number of files each is deleted in.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :top_n    how many words
with deletions as (
    select utt_id, ref_word as word
    from alignment_ops
    where run_id = :run_id and op = 'delete'
),

final as (
    select word, count(*) as count, count(distinct utt_id) as files
    from deletions
    group by word
)

select * from final
order by count desc, word
limit :top_n
