-- Whether a dataset knows any speaker (utterances.speaker, not empty): compare then
-- resamples speakers and groups by speaker by default.
-- Parameters:
--   :dataset  datasets.name
select count(*) > 0 as known
from utterances
where dataset = :dataset and speaker <> ''
