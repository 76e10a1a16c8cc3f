-- Which words does the recognizer hear as which others? The :top_n most frequent
-- substitution pairs (reference word -> hypothesis word) of a run, with the number of files
-- each occurs in.
-- Parameters:
--   :run_id   the run (runs.run_id)
--   :top_n    how many pairs
with substitutions as (
    select utt_id, ref_word, hyp_word
    from alignment_ops
    where run_id = :run_id and op = 'substitute'
),

final as (
    select
        ref_word,
        hyp_word,
        count(*)               as count,
        count(distinct utt_id) as files
    from substitutions
    group by ref_word, hyp_word
)

select * from final
order by count desc, ref_word, hyp_word
limit :top_n
