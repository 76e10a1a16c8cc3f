-- Files of a run with raw scores (raw_errors or raw_alignment_ops) that are not scored now:
-- no transcript, or one with an error. Their raw rows go.
with raw_files as (
    select utt_id from raw_errors where run_id = :run_id
    union
    select utt_id from raw_alignment_ops where run_id = :run_id
)

select utt_id
from raw_files
where utt_id not in (
    select utt_id from transcripts where run_id = :run_id and error is null
)
order by utt_id
