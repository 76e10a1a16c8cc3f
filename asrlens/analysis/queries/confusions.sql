-- The most frequent substitutions of a run: what was said, what was heard. :run_id :limit
select ref_word, hyp_word, count(*) as times
from alignment_ops
where run_id = :run_id and op = 'substitute'
group by ref_word, hyp_word
order by times desc, ref_word, hyp_word
limit :limit
