-- Runs recorded as 'running', with every column: owner_pid, owner_host and owner_started_at
-- name the process that owns each (absent before schema v3; NULL for runs it did not start).
select *
from runs
where status = 'running'
order by run_id
