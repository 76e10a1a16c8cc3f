-- Files on disk whose stored row stands if the file is unchanged (decoded fine; a float file
-- counted for NaN / inf samples, schema 2): path, stored size and mtime, in listing order.
-- Ingest stats each one and keeps those of the same size and mtime (table reused).
create or replace table reuse_check as
with final as (
    select l.ord, l.path, o.bytes, o.mtime
    from listing as l
    join old_audio as o using (path)
    where not l.embedded
      and o.silence_fraction is not null
      and (o.non_finite_samples is not null or o.subtype is null
           or o.subtype not in ('FLOAT', 'DOUBLE'))
)
select row_number() over (order by ord) as rn, path, bytes, mtime from final
