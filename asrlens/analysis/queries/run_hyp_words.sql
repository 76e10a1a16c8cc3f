-- A run's hypothesis words with their times, file by file, in order. :run_id
select utt_id, word_index, word, start_s, end_s
from hyp_words
where run_id = :run_id
order by utt_id, word_index
