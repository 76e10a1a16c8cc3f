-- Runs recorded as 'running' by a process on another host than :host.
select run_id, owner_pid, owner_host, owner_started_at
from runs
where status = 'running' and owner_host is not null and owner_host != :host
order by run_id
