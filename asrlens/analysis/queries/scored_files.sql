-- The files of a run that have a score (utterance_errors), in order. :run_id
select utt_id from utterance_errors where run_id = :run_id order by utt_id
