-- Up to :per_kind example windows of each formatting kind of a run (one row per window),
-- the most frequent pairs first. :run_id :scoring :per_kind
with windows as (
    select distinct utt_id, window_start, kind, ref_text, hyp_text
    from formatting_errors
    where run_id = :run_id and scoring = :scoring
),

pairs as (
    select kind, ref_text, hyp_text, count(*) as times, min(utt_id) as utt_id
    from windows
    group by kind, ref_text, hyp_text
),

final as (
    select *, row_number() over (partition by kind order by times desc, ref_text, hyp_text) as nth
    from pairs
)

select * from final where nth <= :per_kind order by kind, nth
