-- Every ingested dataset by name (asrlens.catalog lists them in its messages).
with final as (
    select name, root, ingested_at
    from datasets
)

select * from final order by name
