-- The files both runs scored, one row each in utt_id order, with what `asrlens compare`
-- needs of them (read a batch of rows at a time, never all at once): each run's counts over
-- its own normalized reference (as shared_files.sql); each run's alignment path, one letter
-- per aligned word in order as sclite writes it, C (correct), S (substitution), D
-- (deletion), I (insertion), '' when the alignment is empty (MAPSSWE walks these); and the
-- file's cluster for the speaker bootstrap: the number of its speaker, or of the file
-- itself when it has none (those first), counting from 0 in the order of those labels.
-- Files whose data differ (as differing_files.sql finds them) are left out unless :pair_all.
-- Parameters:
--   :run_a     the baseline run (runs.run_id)
--   :run_b     the run compared with it
--   :dataset   the runs' dataset (datasets.name)
--   :pair_all  false: leave out the files whose data differ between the runs
with a as (
    select utt_id, ref_words, substitutions + deletions + insertions as errors
    from utterance_errors
    where run_id = :run_a
),

b as (
    select utt_id, ref_words, substitutions + deletions + insertions as errors
    from utterance_errors
    where run_id = :run_b
),

ta as (
    select utt_id, coalesce(ref_sha256, sha256(coalesce(ref_raw, ''))) as ref_sha256
    from transcripts
    where run_id = :run_a
),

tb as (
    select utt_id, coalesce(ref_sha256, sha256(coalesce(ref_raw, ''))) as ref_sha256
    from transcripts
    where run_id = :run_b
),

same_column as (
    select count(distinct reference_column) = 1 as same
    from runs
    where run_id in (:run_a, :run_b)
),

differing as (
    select utt_id
    from ta
    full outer join tb using (utt_id)
    where ta.utt_id is null or tb.utt_id is null
       or (ta.ref_sha256 <> tb.ref_sha256 and (select same from same_column))
),

paired as (
    select a.utt_id, a.ref_words as ref_words_a, a.errors as errors_a,
           b.ref_words as ref_words_b, b.errors as errors_b
    from a
    join b using (utt_id)
    where :pair_all or a.utt_id not in (select utt_id from differing)
),

letters as (
    select
        run_id,
        utt_id,
        op_index,
        case op
            when 'equal' then 'C'
            when 'substitute' then 'S'
            when 'delete' then 'D'
            when 'insert' then 'I'
        end as letter
    from alignment_ops
    where run_id in (:run_a, :run_b) and utt_id in (select utt_id from paired)
),

paths as (
    select
        utt_id,
        coalesce(string_agg(letter, '' order by op_index) filter (where run_id = :run_a), '')
            as path_a,
        coalesce(string_agg(letter, '' order by op_index) filter (where run_id = :run_b), '')
            as path_b
    from letters
    group by utt_id
),

speakers as (
    select utt_id, nullif(speaker, '') as speaker
    from utterances
    where dataset = :dataset
),

final as (
    select
        p.utt_id, p.ref_words_a, p.errors_a, p.ref_words_b, p.errors_b,
        coalesce(t.path_a, '') as path_a,
        coalesce(t.path_b, '') as path_b,
        dense_rank() over (order by s.speaker is not null, coalesce(s.speaker, p.utt_id)) - 1
            as cluster
    from paired as p
    left join paths as t using (utt_id)
    left join speakers as s using (utt_id)
)

select * from final
order by utt_id
