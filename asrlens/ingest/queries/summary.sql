-- What `asrlens ingest` reports about the rows staged for one dataset (one row).
with spoken as (
    select case when s.utt_id is not null then coalesce(s.duration_s, 0)
                else coalesce(a.duration_s, 0) end as seconds
    from utterances as u
    left join utterance_spans as s using (utt_id)
    left join audio_files as a on a.path = u.audio_path
    where u.audio_path is not null
),
final as (
    select
        (select count(*) from listing) - (select count(*) from claims) as audio_without_labels,
        (select coalesce(sum(seconds), 0) from spoken) as seconds,
        (select coalesce(sum(coalesce(duration_s, 0)), 0) from audio_files) as audio_seconds,
        (select count(distinct speaker) from utterances where speaker <> '') as speakers,
        (select count(*) from facts as f
         where not exists (select 1 from old_audio as o where o.path = f.path)) as files_new,
        (select count(*) from facts as f join old_audio as o using (path)
         where o.sha256 is distinct from f.sha256) as files_updated,
        (select count(*) from old_audio as o
         where not exists (select 1 from listing as l where l.path = o.path)) as files_removed,
        (select count(*) from facts) as files_read,
        (select count(*) from reused) + (select count(*) from embedded_reused)
            as files_skipped,
        (select count(*) from audio_files where duration_s <> 0) as usable_audio
)
select * from final
