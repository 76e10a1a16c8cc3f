-- Feature vs WER for the "Why it fails" section: every bucket of every feature, with the
-- feature's rank correlation; features with the strongest correlation first. :run_id
with final as (
    select
        c.feature, c.files as feature_files, c.spearman, c.n_buckets,
        e.bucket, e.lo, e.hi, e.files, e.ref_words, e.errors, e.wer
    from feature_correlations c
    join feature_effects e on e.run_id = c.run_id and e.feature = c.feature
    where c.run_id = :run_id
)

select * from final
order by abs(spearman) desc nulls last, feature, bucket
