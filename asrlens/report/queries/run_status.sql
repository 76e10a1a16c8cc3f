-- One run's (:run_id) recorded status and the process that owns it, to tell a run still
-- going from a stale one (status 'running' but its process gone: asrlens.health.owner).
select status, owner_pid, owner_host, owner_started_at
from runs
where run_id = :run_id
