-- A run's alignment, op by op, utterance by utterance, for the utterances
-- from :lo (NULL: the first) to before :hi (NULL: the last): analyze reads a few thousand
-- files at a time (asrlens/analysis/batches.py). :run_id :lo :hi
select utt_id, op_index, op, ref_word, hyp_word, ref_pos, hyp_pos
from alignment_ops
where run_id = :run_id
  and (cast(:lo as varchar) is null or utt_id >= :lo)
  and (cast(:hi as varchar) is null or utt_id < :hi)
order by utt_id, op_index
