-- The utterance of :dataset each line of import_lines names, as a temporary table
-- import_matches: by id, else by audio path (relative to the root or under it; of two
-- utterances with one path, the last utt_id), else by file name, else by stem, a name or stem
-- counting only when it names one utterance. asrlens_* are Python functions registered by
-- asrlens.infer.import_run (pathlib's rules). how: 'id', 'path', 'file name', 'stem', or NULL
-- with message saying why the line names none. first_line: the first line naming the same
-- utterance (a later one is a duplicate).
create or replace temp table import_matches as
with utts as (
    select u.utt_id, u.audio_path, d.root
    from utterances u
    join datasets d on d.name = u.dataset
    where u.dataset = :dataset
),

by_id as (
    select l.line, u.utt_id
    from import_lines l
    join utts u on u.utt_id = l.key
),

paths as (
    select asrlens_posix(audio_path) as path, utt_id from utts where audio_path is not null
    union all
    select asrlens_under(root, audio_path) as path, utt_id from utts where audio_path is not null
),

by_path as (
    select l.line, max(p.utt_id) as utt_id
    from import_lines l
    join paths p on p.path = l.posix
    where l.line not in (select line from by_id)
    group by l.line
),

after_path as (
    select * from import_lines
    where line not in (select line from by_id) and line not in (select line from by_path)
),

names as (
    select asrlens_name(audio_path) as name, utt_id
    from utts
    where audio_path is not null and asrlens_name(audio_path) in (select name from after_path)
),

by_name as (
    select l.line, count(*) as found, min(n.utt_id) as utt_id,
           list(n.utt_id order by n.utt_id)[1:3] as first_ids
    from after_path l
    join names n on n.name = l.name
    group by l.line
),

after_name as (
    select * from after_path where line not in (select line from by_name)
),

stems as (
    select asrlens_stem(audio_path) as stem, utt_id
    from utts
    where audio_path is not null and asrlens_stem(audio_path) in (select stem from after_name)
),

by_stem as (
    select l.line, count(*) as found, min(s.utt_id) as utt_id,
           list(s.utt_id order by s.utt_id)[1:3] as first_ids
    from after_name l
    join stems s on s.stem = l.stem
    group by l.line
),

matched as (
    select
        l.line, l.key,
        case when i.line is not null then i.utt_id
             when p.line is not null then p.utt_id
             when n.found = 1 then n.utt_id
             when n.found > 1 then null
             when s.found = 1 then s.utt_id end as utt_id,
        case when i.line is not null then 'id'
             when p.line is not null then 'path'
             when n.found = 1 then 'file name'
             when n.found > 1 then null
             when s.found = 1 then 'stem' end as how,
        case when i.line is not null or p.line is not null or n.found = 1 then null
             when n.found > 1 then 'file name ' || asrlens_repr(l.name) || ' names '
                 || n.found || ' utterances (' || array_to_string(n.first_ids, ', ')
                 || '): give the id or the full path'
             when s.found = 1 then null
             when s.found > 1 then 'stem ' || asrlens_repr(l.stem) || ' names '
                 || s.found || ' utterances (' || array_to_string(s.first_ids, ', ')
                 || '): give the id or the full path'
             else 'names no utterance of the dataset (by id, audio path, file name or stem)'
        end as message
    from import_lines l
    left join by_id i on i.line = l.line
    left join by_path p on p.line = l.line
    left join by_name n on n.line = l.line
    left join by_stem s on s.line = l.line
),

final as (
    select *, min(line) over (partition by utt_id) as first_line
    from matched
)

select * from final
