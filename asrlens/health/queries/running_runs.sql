-- Runs recorded as 'running', with the process that owns each (NULL before schema v3).
select run_id, dataset, owner_pid, owner_host, owner_started_at
from runs
where status = 'running'
order by run_id
