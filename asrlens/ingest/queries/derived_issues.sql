-- The issues found once labels and audio are matched and read, after the label issues:
-- outside_path (section 4), unlabelled_audio (5), a file's empty_audio / corrupt_audio (6),
-- non_finite_samples (8; 7 is unsafe_path, from the listing). ord: section * 2^40 + rank.
-- $1: the dataset.
insert into ingest_issues by name
with outside_paths as (
    select 4 as section, o.ord as n, 'outside_path' as kind, null as utt_id, o.path,
        o.path || ': outside the dataset folder, read because of --allow-outside-paths'
            as message
    from outside as o
    where exists (select 1 from claims as c where c.path = o.path)
),
unlabelled as (
    select 5 as section, l.ord as n, 'unlabelled_audio' as kind, null as utt_id, l.path,
        l.path || ': no label refers to this file' as message
    from listing as l
    where not exists (select 1 from claims as c where c.path = l.path)
),
unreadable as (
    select 6 as section, f.ord as n, f.problem as kind, c.utt_id, f.path, f.message
    from facts as f
    left join claims as c using (path)
    where f.problem is not null
),
samples as (
    select a.*, coalesce(a.frames, 0) * coalesce(a.channels, 0) as total
    from audio_files as a
    where coalesce(a.non_finite_samples, 0) > 0
),
non_finite as (
    select 8 as section, s.ord as n, 'non_finite_samples' as kind, s.utt_id, s.path,
        s.path || ': ' || s.non_finite_samples || ' of ' || s.total
            || ' samples are not finite numbers (NaN or infinity); '
            || case when s.non_finite_samples < s.total
                    then 'levels and silence are measured on the other samples'
                    else 'no level can be measured' end
            || ', and the recognizer hears them as silence' as message
    from samples as s
),
final as (
    select * from outside_paths
    union all select * from unlabelled
    union all select * from unreadable
    union all select * from non_finite
)
select $1 as dataset, kind, utt_id, path, null as line, message,
    section * 1099511627776 + n as ord
from final
