-- Which words does the recognizer add that nobody said? The :top_n most inserted words of
-- a run, with the number of files each is inserted in.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :top_n    how many words
with insertions as (
    select utt_id, hyp_word as word
    from alignment_ops
    where run_id = :run_id and op = 'insert'
),

final as (
    select word, count(*) as count, count(distinct utt_id) as files
    from insertions
    group by word
)

select * from final
order by count desc, word
limit :top_n
