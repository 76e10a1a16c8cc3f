-- Which frequent words go wrong most often? For every reference word seen at least
-- :min_count times in a run's references: how often it was substituted or deleted, and the
-- share of its occurrences that went wrong (errors / occurrences). Insertions belong to no
-- reference word and are not counted here. The :top_n highest error rates.
-- Parameters:
--   :run_id      the run (runs.run_id)
--   :min_count   least occurrences in the references for a word to be listed
--   :top_n       how many words
with reference_words as (
    select ref_word as word, op
    from alignment_ops
    where run_id = :run_id and ref_word is not null
),

per_word as (
    select
        word,
        count(*)                                  as occurrences,
        count(*) filter (where op = 'substitute') as substitutions,
        count(*) filter (where op = 'delete')     as deletions
    from reference_words
    group by word
),

final as (
    select
        word,
        occurrences,
        substitutions,
        deletions,
        substitutions + deletions                        as errors,
        (substitutions + deletions) / occurrences        as error_rate
    from per_word
    where occurrences >= :min_count
)

select * from final
order by error_rate desc, occurrences desc, word
limit :top_n
