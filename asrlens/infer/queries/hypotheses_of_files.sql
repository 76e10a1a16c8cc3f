-- The normalized hypotheses of some files of a run (:utt_ids, a list).
select utt_id, hyp_norm
from transcripts
where run_id = :run_id and utt_id in (select unnest(:utt_ids))
