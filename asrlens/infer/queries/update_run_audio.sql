-- runs.audio_s follows the run's transcribed files (after files were skipped or rescored).
update runs
set audio_s = (
    select coalesce(sum(audio_s), 0.0)
    from transcripts
    where run_id = :run_id and error is null
)
where run_id = :run_id
