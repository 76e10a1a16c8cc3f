-- The files the run scored, worst first, for the report's file table (filtered, searched
-- and paged in the page): counts, duration, the error tags asrlens analyze put on its
-- errors, and both normalized texts. At most :max_rows of them (the worst); files_total
-- counts them all.
-- Parameters:
--   :run_id     the run (runs.run_id)
--   :max_rows   files listed at most
with run as (
    select run_id, dataset
    from runs
    where run_id = :run_id
),

ranked as (
    select
        e.run_id,
        e.utt_id,
        e.wer,
        e.substitutions + e.deletions + e.insertions as errors,
        e.substitutions,
        e.deletions,
        e.insertions,
        e.ref_words
    from utterance_errors as e
    where e.run_id = :run_id
    order by e.wer desc nulls last, errors desc, e.utt_id
    limit :max_rows
),

tags as (
    select utt_id, string_agg(distinct tag, ' ' order by tag) as tags
    from op_tags
    where run_id = :run_id and utt_id in (select utt_id from ranked)
    group by utt_id
),

final as (
    select
        e.utt_id,
        e.wer,
        e.errors,
        e.substitutions,
        e.deletions,
        e.insertions,
        e.ref_words,
        a.duration_s,
        coalesce(g.tags, '') as tags,
        coalesce(t.ref_norm, '') as ref_norm,
        coalesce(t.hyp_norm, '') as hyp_norm,
        (select count(*) from utterance_errors where run_id = :run_id) as files_total
    from ranked as e
    join run as r using (run_id)
    left join transcripts as t on t.run_id = e.run_id and t.utt_id = e.utt_id
    left join utterances as u on u.dataset = r.dataset and u.utt_id = e.utt_id
    left join audio_files as a on a.dataset = u.dataset and a.path = u.audio_path
    left join tags as g on g.utt_id = e.utt_id
)

select * from final
order by wer desc nulls last, errors desc, utt_id
