-- A run's hypothesis words with their times, file by file, in order, for the utterances from
-- :lo to before :hi (run_ops.sql). :run_id :lo :hi
select utt_id, word_index, word, start_s, end_s
from hyp_words
where run_id = :run_id
  and (cast(:lo as varchar) is null or utt_id >= :lo)
  and (cast(:hi as varchar) is null or utt_id < :hi)
order by utt_id, word_index
