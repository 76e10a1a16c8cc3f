-- The files of a run that have a score (utterance_errors), in order, from :lo
-- to before :hi (run_ops.sql). :run_id :lo :hi
select utt_id from utterance_errors where run_id = :run_id
  and (cast(:lo as varchar) is null or utt_id >= :lo)
  and (cast(:hi as varchar) is null or utt_id < :hi)
order by utt_id
