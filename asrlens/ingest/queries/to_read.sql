-- Files on disk to decode: all but the reused ones, in listing order, numbered for paging.
create or replace table to_read as
with final as (
    select l.ord, l.path
    from listing as l
    where not l.embedded
      and not exists (select 1 from reused as r where r.path = l.path)
)
select row_number() over (order by ord) as rn, path from final
