-- The utterances the run covers, as a temporary table import_covered: every utterance of
-- :dataset with audio, plus any other one a line names; line and hyp: the first line naming
-- it and its text (NULL: no hypothesis); duration_s: its audio's (NULL when unknown).
create or replace temp table import_covered as
with kept as (
    select m.utt_id, m.line, l.text
    from import_matches m
    join import_lines l on l.line = m.line
    where m.utt_id is not null and m.line = m.first_line
),

final as (
    select u.utt_id, k.line, k.text as hyp, a.duration_s
    from utterances u
    left join audio_files a on a.dataset = u.dataset and a.path = u.audio_path
    left join kept k on k.utt_id = u.utt_id
    where u.dataset = :dataset and (u.audio_path is not null or k.line is not null)
)

select * from final
