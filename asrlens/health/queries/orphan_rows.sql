-- Rows that belong to nothing: their dataset, run or transcript is not in the database (a
-- deletion by hand, or a bug). Every figure joins through the parent, so they are ignored;
-- `condition` is the WHERE clause that selects them, for a DELETE. One row per check with
-- orphans.
with checks as (
    select 'utterances' as table_name, 'dataset' as parent,
           'dataset not in (select name from datasets)' as condition,
           (select count(*) from utterances where dataset not in (select name from datasets)) as n
    union all
    select 'audio_files', 'dataset', 'dataset not in (select name from datasets)',
           (select count(*) from audio_files where dataset not in (select name from datasets))
    union all
    select 'ingest_issues', 'dataset', 'dataset not in (select name from datasets)',
           (select count(*) from ingest_issues where dataset not in (select name from datasets))
    union all
    select 'runs', 'dataset', 'dataset not in (select name from datasets)',
           (select count(*) from runs where dataset not in (select name from datasets))
    union all
    select 'transcripts', 'run', 'run_id not in (select run_id from runs)',
           (select count(*) from transcripts where run_id not in (select run_id from runs))
    union all
    select 'utterance_errors', 'transcript',
           '(run_id, utt_id) not in (select (run_id, utt_id) from transcripts)',
           (select count(*) from utterance_errors e
            where not exists (select 1 from transcripts t
                              where t.run_id = e.run_id and t.utt_id = e.utt_id))
    union all
    select 'alignment_ops', 'transcript',
           '(run_id, utt_id) not in (select (run_id, utt_id) from transcripts)',
           (select count(*) from alignment_ops a
            where not exists (select 1 from transcripts t
                              where t.run_id = a.run_id and t.utt_id = a.utt_id))
    union all
    select 'hyp_words', 'transcript',
           '(run_id, utt_id) not in (select (run_id, utt_id) from transcripts)',
           (select count(*) from hyp_words w
            where not exists (select 1 from transcripts t
                              where t.run_id = w.run_id and t.utt_id = w.utt_id))
    union all
    select 'utterance_features', 'dataset', 'dataset not in (select name from datasets)',
           (select count(*) from utterance_features
            where dataset not in (select name from datasets))
    union all
    select 'op_tags', 'run', 'run_id not in (select run_id from runs)',
           (select count(*) from op_tags where run_id not in (select run_id from runs))
    union all
    select 'reference_words', 'run', 'run_id not in (select run_id from runs)',
           (select count(*) from reference_words where run_id not in (select run_id from runs))
    union all
    select 'feature_effects', 'run', 'run_id not in (select run_id from runs)',
           (select count(*) from feature_effects where run_id not in (select run_id from runs))
    union all
    select 'feature_correlations', 'run', 'run_id not in (select run_id from runs)',
           (select count(*) from feature_correlations
            where run_id not in (select run_id from runs))
    union all
    select 'analysis_summary', 'run', 'run_id not in (select run_id from runs)',
           (select count(*) from analysis_summary where run_id not in (select run_id from runs))
),

final as (
    select table_name, parent, condition, n from checks where n > 0
)

select * from final order by table_name
