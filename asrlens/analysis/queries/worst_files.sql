-- The files of a run with the highest WER (more errors first among equals). :run_id :limit
select
    utt_id, wer, ref_words,
    substitutions + deletions + insertions as errors
from utterance_errors
where run_id = :run_id and ref_words > 0
order by wer desc, errors desc, utt_id
limit :limit
