-- The data fingerprint recorded for one run (NULL for a run made before schema version 8).
-- Parameters:
--   :run_id   the run (runs.run_id)
select data_fingerprint
from runs
where run_id = :run_id
