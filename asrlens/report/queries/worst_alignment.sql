-- The word alignment of the worst files (worst_files.sql picks and ranks them), one row per
-- aligned word in op_index order, with the recognizer's confidence in the hypothesis word
-- and its start time (where the engine gives them) and the error tags asrlens analyze put on
-- the op. Confidences and start times come from hyp_words, numbered over the raw hypothesis;
-- they are attached only where that file's raw and normalized hypotheses have the same
-- number of words.
-- Parameters:
--   :run_id    the run (runs.run_id)
--   :utt_ids   the files, a list in rank order (worst_files.sql's utt_id column)
with worst as (
    select e.utt_id, list_position(:utt_ids, e.utt_id) as rank, e.hyp_words
    from utterance_errors as e
    where e.run_id = :run_id and list_contains(:utt_ids, e.utt_id)
),

engine_words as (
    select h.utt_id, h.word_index, h.confidence, h.start_s,
           count(*) over (partition by h.utt_id) as words_in_file
    from hyp_words as h
    join worst using (utt_id)
    where h.run_id = :run_id
),

confidences as (
    select c.utt_id, c.word_index, c.confidence, c.start_s
    from engine_words as c
    join worst as w using (utt_id)
    where c.words_in_file = w.hyp_words
),

tags as (
    select t.utt_id, t.op_index, string_agg(t.tag, ', ' order by t.tag) as tags
    from op_tags as t
    join worst using (utt_id)
    where t.run_id = :run_id
    group by t.utt_id, t.op_index
),

final as (
    select
        w.rank,
        o.utt_id,
        o.op_index,
        o.op,
        o.ref_word,
        o.hyp_word,
        o.ref_pos,
        o.hyp_pos,
        c.confidence,
        c.start_s,
        t.tags
    from alignment_ops as o
    join worst as w using (utt_id)
    left join confidences as c on c.utt_id = o.utt_id and c.word_index = o.hyp_pos
    left join tags as t on t.utt_id = o.utt_id and t.op_index = o.op_index
    where o.run_id = :run_id
)

select * from final
order by rank, op_index
