-- Every issue of an import, as a temporary table import_found_issues, in the order they are
-- reported (rank, line, key): lines that could not be parsed, lines naming no utterance or
-- one named before, then covered utterances without a hypothesis (in utt_id order).
create or replace temp table import_found_issues as
with issues as (
    select 0 as rank, 'bad_line' as kind, line, key, message from import_bad
    union all
    select 1, 'unmatched', line, key, message from import_matches where utt_id is null
    union all
    select 1, 'duplicate', line, key,
           'second hypothesis for ' || utt_id || ' (line ' || first_line || ' is kept)'
    from import_matches
    where utt_id is not null and line > first_line
    union all
    select 2, 'no_hypothesis', null, utt_id, 'no hypothesis for ' || utt_id || ' in ' || :path
    from import_covered
    where line is null
),

final as (
    select * from issues order by rank, line, key
)

select * from final
