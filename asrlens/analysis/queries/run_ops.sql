-- A run's alignment, op by op, utterance by utterance. :run_id
select utt_id, op_index, op, ref_word, hyp_word, ref_pos, hyp_pos
from alignment_ops
where run_id = :run_id
order by utt_id, op_index
