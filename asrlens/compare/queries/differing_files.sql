-- Files whose data differ between two runs, one row each: covered by one run only (a
-- transcripts row in one, none in the other), or covered by both but scored against
-- different reference texts (the reference sha256 stored with each transcript; compared only
-- when both runs read the same reference column). `compare --allow-different-data` pairs the
-- other files.
-- Parameters:
--   :run_a   the baseline run (runs.run_id)
--   :run_b   the run compared with it
with a as (
    select utt_id, coalesce(ref_sha256, sha256(coalesce(ref_raw, ''))) as ref_sha256
    from transcripts
    where run_id = :run_a
),

b as (
    select utt_id, coalesce(ref_sha256, sha256(coalesce(ref_raw, ''))) as ref_sha256
    from transcripts
    where run_id = :run_b
),

same_column as (
    select count(distinct reference_column) = 1 as same
    from runs
    where run_id in (:run_a, :run_b)
),

final as (
    select
        utt_id,
        case
            when b.utt_id is null then 'only_a'
            when a.utt_id is null then 'only_b'
            else 'reference_changed'
        end as how
    from a
    full outer join b using (utt_id)
    where a.utt_id is null or b.utt_id is null
       or (a.ref_sha256 <> b.ref_sha256 and (select same from same_column))
)

select * from final
order by utt_id
