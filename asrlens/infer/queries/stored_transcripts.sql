-- What a run holds of each of its files: whether it failed, and the reference it was scored
-- against (ref_sha256, NULL for rows stored before schema 4: then ref_raw is hashed).
select utt_id, error, ref_raw, ref_sha256
from transcripts
where run_id = :run_id
