-- Issues staged for one dataset, by kind.
with final as (
    select kind, count(*) as n from ingest_issues group by kind
)
select * from final order by kind
