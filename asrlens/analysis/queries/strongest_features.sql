-- Features ranked by the strength of their rank correlation with per-file WER, each with its
-- highest-WER bucket. :run_id :limit
with ranked as (
    select feature, files, spearman
    from feature_correlations
    where run_id = :run_id and spearman is not null
),

top_bucket as (
    select feature, lo, hi, files as bucket_files, wer as bucket_wer,
        row_number() over (partition by feature order by wer desc nulls last, bucket) as nth
    from feature_effects
    where run_id = :run_id
),

final as (
    select r.feature, r.files, r.spearman, b.lo, b.hi, b.bucket_files, b.bucket_wer
    from ranked r
    join top_bucket b on b.feature = r.feature and b.nth = 1
)

select * from final order by abs(spearman) desc, feature limit :limit
