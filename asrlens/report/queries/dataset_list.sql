-- Every ingested dataset, most recently ingested first.
with final as (
    select name, source, root, labels_path, labels_format, n_labels, n_audio, ingested_at
    from datasets
    order by ingested_at desc, name
)

select * from final
