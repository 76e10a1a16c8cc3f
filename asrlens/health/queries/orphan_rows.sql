-- Rows that belong to nothing: their dataset, run or transcript is not in the database (a
-- deletion by hand, or a bug). Every figure joins through the parent, so they are ignored;
-- `condition` is the WHERE clause that selects them, for a DELETE. One row per check with
-- orphans.
with of_datasets as (  -- the tables whose rows belong to a dataset
    select 'utterances' as table_name, dataset from utterances
    union all select 'audio_files', dataset from audio_files
    union all select 'ingest_issues', dataset from ingest_issues
    union all select 'utterance_spans', dataset from utterance_spans
    union all select 'runs', dataset from runs
    union all select 'utterance_features', dataset from utterance_features
),

of_runs as (  -- ... to a run
    select 'transcripts' as table_name, run_id from transcripts
    union all select 'op_tags', run_id from op_tags
    union all select 'reference_words', run_id from reference_words
    union all select 'feature_effects', run_id from feature_effects
    union all select 'feature_correlations', run_id from feature_correlations
    union all select 'analysis_summary', run_id from analysis_summary
),

of_transcripts as (  -- ... to one file's transcript
    select 'utterance_errors' as table_name, run_id, utt_id from utterance_errors
    union all select 'alignment_ops', run_id, utt_id from alignment_ops
    union all select 'hyp_words', run_id, utt_id from hyp_words
    union all select 'hyp_segments', run_id, utt_id from hyp_segments
),

checks as (
    select table_name, 'dataset' as parent,
           'dataset not in (select name from datasets)' as condition, count(*) as n
    from of_datasets
    where dataset not in (select name from datasets)
    group by table_name
    union all
    select table_name, 'run', 'run_id not in (select run_id from runs)', count(*)
    from of_runs
    where run_id not in (select run_id from runs)
    group by table_name
    union all
    select table_name, 'transcript',
           '(run_id, utt_id) not in (select (run_id, utt_id) from transcripts)', count(*)
    from of_transcripts as o
    where not exists (select 1 from transcripts t
                      where t.run_id = o.run_id and t.utt_id = o.utt_id)
    group by table_name
),

final as (
    select table_name, parent, condition, n from checks where n > 0
)

select * from final order by table_name
