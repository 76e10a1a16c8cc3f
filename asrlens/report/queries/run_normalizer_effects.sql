-- The words of one run (:run_id) whose errors its normalizer removed (change < 0) or added
-- (change > 0) against the minimal normalization, the largest changes first (:limit each way).
with effects as (
    select word, raw_errors, normalized_errors, change
    from normalizer_word_effects
    where run_id = :run_id
),

ranked as (
    select *,
        row_number() over (partition by change < 0 order by abs(change) desc, word) as rank
    from effects
),

final as (
    select word, raw_errors, normalized_errors, change
    from ranked
    where rank <= :limit
    order by change, word
)

select * from final
