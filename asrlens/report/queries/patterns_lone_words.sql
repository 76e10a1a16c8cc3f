-- Which words does the recognizer drop (:op 'delete': reference words it deleted), or add
-- that nobody said (:op 'insert': words it inserted)? The :top_n most frequent such words of
-- a run, with the number of files each is deleted or inserted in.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :op       'delete' or 'insert'
--   :top_n    how many words
with lone_words as (
    select utt_id, coalesce(ref_word, hyp_word) as word  -- the side the op touches
    from alignment_ops
    where run_id = :run_id and op = :op
),

final as (
    select word, count(*) as count, count(distinct utt_id) as files
    from lone_words
    group by word
)

select * from final
order by count desc, word
limit :top_n
