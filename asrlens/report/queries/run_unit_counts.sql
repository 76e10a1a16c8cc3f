-- Error counts of one run (:run_id) summed per bootstrap unit: a speaker's files together
-- when utterances.speaker is known, else each file alone. Fetched as numpy columns.
-- The units come in the order asrlens.scoring.bootstrap.cluster_sums gives them (labels
-- sorted, a file of unknown speaker labelled NUL + utt_id, so those come first, by utt_id):
-- the same seed draws the same units as before. known: whether the unit is a speaker.
with files as (
    select
        nullif(u.speaker, '') is not null                             as known,
        coalesce(nullif(u.speaker, ''), e.utt_id)                     as unit,
        e.ref_words, e.hyp_words, e.hits, e.substitutions, e.deletions, e.insertions,
        e.ref_chars,
        e.char_substitutions + e.char_deletions + e.char_insertions   as char_errors
    from utterance_errors as e
    join runs as r on r.run_id = e.run_id
    left join utterances as u on u.dataset = r.dataset and u.utt_id = e.utt_id
    where e.run_id = :run_id
),

final as (
    select
        known,
        sum(ref_words)::bigint      as ref_words,
        sum(hyp_words)::bigint      as hyp_words,
        sum(hits)::bigint           as hits,
        sum(substitutions)::bigint  as substitutions,
        sum(deletions)::bigint      as deletions,
        sum(insertions)::bigint     as insertions,
        sum(ref_chars)::bigint      as ref_chars,
        sum(char_errors)::bigint    as char_errors
    from files
    group by known, unit
    order by known, unit
)

select * from final
