-- Where a dataset's labels came from: NULL labels_path when ingest found no labels file.
-- Parameters: :dataset.
with final as (
    select name, labels_path, n_labels, n_audio
    from datasets
    where name = :dataset
)

select * from final
