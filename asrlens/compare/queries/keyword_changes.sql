-- Terms whose reference occurrences one run of a stored comparison found and the other
-- missed (view keyword_changes), most lost first. :run_a :run_b
select term, occurrences, found_a, found_b, lost, gained
from keyword_changes
where run_a = :run_a and run_b = :run_b
order by lost desc, gained desc, term
