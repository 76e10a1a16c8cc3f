-- A run's alignment under the minimal normalization (raw_alignment_ops), op by op, for the utterances
-- from :lo to before :hi (run_ops.sql). :run_id :lo :hi
select utt_id, op_index, op, ref_word, hyp_word, ref_pos, hyp_pos
from raw_alignment_ops
where run_id = :run_id
  and (cast(:lo as varchar) is null or utt_id >= :lo)
  and (cast(:hi as varchar) is null or utt_id < :hi)
order by utt_id, op_index
