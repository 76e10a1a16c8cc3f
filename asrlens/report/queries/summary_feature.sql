-- The file feature whose rank correlation with per-file WER is strongest (asrlens analyze's
-- feature_correlations), with its highest-WER bucket: the summary's reason about the files.
-- Parameters:
--   :run_id      the run (runs.run_id)
--   :min_files   a feature known for fewer files is not named
with ranked as (
    select feature, files, spearman
    from feature_correlations
    where run_id = :run_id and spearman is not null and files >= :min_files
),

top_bucket as (
    select feature, lo, hi, files as bucket_files, wer as bucket_wer,
        row_number() over (partition by feature order by wer desc nulls last, bucket) as nth
    from feature_effects
    where run_id = :run_id
),

final as (
    select r.feature, r.files, r.spearman, b.lo, b.hi, b.bucket_files, b.bucket_wer
    from ranked as r
    join top_bucket as b on b.feature = r.feature and b.nth = 1
)

select * from final
order by abs(spearman) desc, feature
limit 1
