-- The files both runs scored from :lo to before :hi (utt_id order; NULL: no bound), one row
-- each in utt_id order, with what `asrlens compare` needs of them (read a batch of files at
-- a time, never all at once): each run's counts over its own normalized reference (as
-- shared_files.sql); each run's alignment path, one letter per aligned word in order as
-- sclite writes it, C (correct), S (substitution), D (deletion), I (insertion), '' when the
-- alignment is empty (MAPSSWE walks these); and the file's speaker (NULL: none known).
-- Files whose data differ (as differing_files.sql finds them) are left out unless :pair_all.
-- With :texts, each file's raw texts too (both runs' hyp_raw, the labels' two reference
-- columns; has_texts false when one is not stored), to rescore it under another normalizer.
-- Parameters:
--   :run_a     the baseline run (runs.run_id)
--   :run_b     the run compared with it
--   :dataset   the runs' dataset (datasets.name)
--   :pair_all  false: leave out the files whose data differ between the runs
--   :texts     true: give the raw texts (NULL otherwise)
--   :lo, :hi   the first utt_id and the one after the last (NULL: no bound)
with a as (
    select utt_id, ref_words, substitutions + deletions + insertions as errors
    from utterance_errors
    where run_id = :run_a
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
),

b as (
    select utt_id, ref_words, substitutions + deletions + insertions as errors
    from utterance_errors
    where run_id = :run_b
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
),

ta as (
    select utt_id, coalesce(ref_sha256, sha256(coalesce(ref_raw, ''))) as ref_sha256
    from transcripts
    where run_id = :run_a
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
),

tb as (
    select utt_id, coalesce(ref_sha256, sha256(coalesce(ref_raw, ''))) as ref_sha256
    from transcripts
    where run_id = :run_b
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
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
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
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
    select utt_id, nullif(speaker, '') as speaker, transcript, normalized_transcript
    from utterances
    where dataset = :dataset
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
),

hyps_a as (
    select utt_id, hyp_raw
    from transcripts
    where run_id = :run_a
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
),

hyps_b as (
    select utt_id, hyp_raw
    from transcripts
    where run_id = :run_b
      and (cast(:lo as varchar) is null or utt_id >= :lo)
      and (cast(:hi as varchar) is null or utt_id < :hi)
),

final as (
    select
        p.utt_id, p.ref_words_a, p.errors_a, p.ref_words_b, p.errors_b,
        coalesce(t.path_a, '') as path_a,
        coalesce(t.path_b, '') as path_b,
        s.speaker,
        :texts and s.utt_id is not null and ha.utt_id is not null and hb.utt_id is not null
            as has_texts,
        case when :texts then ha.hyp_raw end as hyp_raw_a,
        case when :texts then hb.hyp_raw end as hyp_raw_b,
        case when :texts then s.transcript end as transcript,
        case when :texts then s.normalized_transcript end as normalized_transcript
    from paired as p
    left join paths as t using (utt_id)
    left join speakers as s using (utt_id)
    left join hyps_a as ha using (utt_id)
    left join hyps_b as hb using (utt_id)
)

select * from final
order by utt_id
