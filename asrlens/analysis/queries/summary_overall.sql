-- Corpus figures of a run for the summary. :run_id
select
    run_id, engine, files_scored, ref_words,
    substitutions + deletions + insertions as errors,
    wer
from run_summary
where run_id = :run_id
