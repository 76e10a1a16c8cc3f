-- An imported run whose rows are all stored and committed: 'finished', with the seconds of
-- audio of its files that have a hypothesis.
update runs set
    status = 'finished',
    finished_at = :finished_at,
    audio_s = :audio_s
where run_id = :run_id
