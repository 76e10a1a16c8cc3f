-- A run's alignment under the minimal normalization (raw_alignment_ops), op by op. :run_id
select utt_id, op_index, op, ref_word, hyp_word, ref_pos, hyp_pos
from raw_alignment_ops
where run_id = :run_id
order by utt_id, op_index
