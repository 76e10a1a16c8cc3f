-- The dataset's audio_files rows, by path: stored rows reused (files unchanged), facts read
-- this time, stored rows of embedded clips reused; utt_id from the label that claimed the
-- file. $1: the dataset.
insert into audio_files by name
with stored as (
    select o.* exclude (dataset, utt_id)
        replace (coalesce(o.non_finite_samples, 0) as non_finite_samples)
    from old_audio as o
    join reused using (path)
),
read_now as (
    select * exclude (problem, message, ord) from facts
),
embedded as (
    select * exclude (dataset, utt_id, ord) from embedded_reused
),
final as (
    select * from stored
    union all by name select * from read_now
    union all by name select * from embedded
)
select $1 as dataset, f.*, c.utt_id, row_number() over (order by f.path) as ord
from final as f
left join claims as c using (path)
