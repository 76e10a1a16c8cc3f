-- run_ops.sql for the utterances from :first to :last (utt_id order): analyze reads a run's
-- alignment a few thousand files at a time. :run_id :first :last
select utt_id, op_index, op, ref_word, hyp_word, ref_pos, hyp_pos
from alignment_ops
where run_id = :run_id and utt_id between :first and :last
order by utt_id, op_index
