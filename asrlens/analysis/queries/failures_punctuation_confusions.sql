-- A run's substituted punctuation marks, summed over files. :run_id
select ref_mark, hyp_mark, sum(count) as count
from punctuation_substitutions
where run_id = :run_id
group by ref_mark, hyp_mark
order by count desc, ref_mark, hyp_mark
