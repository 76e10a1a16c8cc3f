-- Store import_found_issues as run :run_id's import_issues rows.
insert into import_issues (run_id, kind, line, key, message)
select :run_id, kind, line, key, message
from import_found_issues
order by rank, line, key
