-- Issues of an import by kind, in the order each kind is first reported.
select kind, count(*) as n
from import_found_issues
group by kind
order by min(rank), min(line), min(key)
