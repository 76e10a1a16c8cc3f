-- The first :n issues of an import, in the order they are reported.
select kind, line, key, message
from import_found_issues
order by rank, line, key
limit :n
