-- Record a run's data fingerprint (run_fingerprint.sql computes it).
-- Parameters:
--   :run_id        the run (runs.run_id)
--   :fingerprint   the sha256 hex digest, NULL when the run covers no file
update runs
set data_fingerprint = :fingerprint
where run_id = :run_id
