-- A run found 'running' whose process is gone: it stopped without saying so (SIGKILL, power
-- loss). Its committed files are whole; `asrlens infer --run NAME` resumes it.
update runs set status = 'interrupted'
where run_id = :run_id and status = 'running'
