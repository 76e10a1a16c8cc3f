-- Record a run's progress after a committed batch: status, wall-clock seconds (summed over
-- resumes by the caller) and the audio seconds transcribed so far (files without error).
update runs set
    status = :status,
    wall_s = :wall_s,
    finished_at = :finished_at,  -- NULL until the run finishes
    audio_s = (
        select coalesce(sum(t.audio_s), 0.0)
        from transcripts t
        where t.run_id = :run_id and t.error is null
    )
where run_id = :run_id
