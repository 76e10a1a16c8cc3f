"""Real signals sent to a real `asrlens infer` (pocketsphinx on the shared sample).

SIGTERM is handled like Ctrl-C: whole files are committed, the run is marked 'interrupted'
and the command exits 143 (130 for SIGINT) with the resume hint. SIGKILL cannot be handled:
the run is left 'running', shown as stale, and resuming it after any number of kills ends with
exactly the per-file counts of an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_infer import assert_consistent, rows

from asrlens.db import wal_path

RUN = "sph"
FILES = 32  # the shared sample's files with audio
COUNTS = ("select utt_id, ref_words, hits, substitutions, deletions, insertions "
          "from utterance_errors where run_id = :run_id order by utt_id")


def start_infer(db: Path, log: Path, *extra: str) -> subprocess.Popen:
    """`asrlens infer` on pocketsphinx, committing every 2 files; progress bar to `log`."""
    command = [sys.executable, "-m", "asrlens", "infer", "--engine", "pocketsphinx",
               "--db", str(db), "--run", RUN, "--batch-files", "2", "--no-analyze", *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # a shell that started the tests in the background may have SIGINT ignored; a
        # terminal's Ctrl-C reaches a process with the default disposition
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def files_done(log: Path) -> int:
    """Files this invocation's progress bar has counted so far (tqdm's 'n/total [')."""
    counts = re.findall(r"(\d+)/\d+ \[", log.read_text(errors="replace"))
    return int(counts[-1]) if counts else 0


def wait_for(proc: subprocess.Popen, log: Path, ready, *, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not ready(log.read_text(errors="replace")):
        if proc.poll() is not None:
            pytest.fail(f"asrlens infer ended ({proc.returncode}) before the signal:\n"
                        f"{log.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"asrlens infer was not ready after {timeout} s:\n{log.read_text()}")
        time.sleep(0.1)


def stored_files(db: Path) -> int:
    return rows(db, "select count(*) as n from transcripts where run_id = :r", r=RUN)[0]["n"]


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status", "name"), [(signal.SIGTERM, 143, "SIGTERM"),
                                                     (signal.SIGINT, 130, "Ctrl-C")])
def test_a_stop_signal_commits_whole_files_and_exits_with_the_resume_hint(
        ingested_db, copy_db, tmp_path, sig, status, name):
    db, log = copy_db(ingested_db), tmp_path / "stderr.txt"
    proc = start_infer(db, log)
    wait_for(proc, log, lambda text: files_done(log) >= 3)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == status, out + log.read_text()
    assert "Traceback" not in out + log.read_text()
    assert "Aborted!" not in out + log.read_text()
    assert f"Interrupted ({name}): whole files are saved. Resume with: asrlens infer --run " \
           f"{RUN} --db {db}" in out
    now = int(re.search(r"interrupted \((\d+) files transcribed now", out).group(1))
    assert now >= 3
    assert stored_files(db) == now  # every file transcribed was committed, none half
    assert rows(db, "select status from runs") == [{"status": "interrupted"}]
    assert_consistent(db, RUN)
    assert not wal_path(db).exists()  # checkpointed on the way out


@pytest.mark.slow
def test_ctrl_c_at_start_up_exits_130_with_the_hint_not_aborted(ingested_db, copy_db, tmp_path):
    db, log = copy_db(ingested_db), tmp_path / "stderr.txt"
    proc = start_infer(db, log)
    wait_for(proc, log, lambda text: "files to transcribe" in text)  # the model is loading
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + log.read_text()
    assert "Aborted!" not in out + log.read_text()
    assert "Traceback" not in out + log.read_text()
    assert "Resume with: asrlens infer" in out


@pytest.mark.slow
def test_killed_three_times_and_resumed_the_run_ends_as_an_uninterrupted_one(
        ingested_db, sphinx_db, copy_db, tmp_path):
    db, log = copy_db(ingested_db), tmp_path / "stderr.txt"
    rng = random.Random(7)
    kills = []
    for _ in range(3):
        remaining = FILES - stored_files(db)
        target = rng.randint(2, remaining // 2)  # files into this invocation, then a bit more
        proc = start_infer(db, log)
        wait_for(proc, log, lambda text, target=target: files_done(log) >= target)
        time.sleep(rng.uniform(0.0, 1.0))  # reading, recognizing or committing
        assert proc.poll() is None, "the run finished before it could be killed"
        proc.kill()
        proc.wait()
        kills.append((target, files_done(log), stored_files(db)))
        assert_consistent(db, RUN)  # whole files only, whatever the moment
        assert rows(db, "select status from runs") == [{"status": "running"}]  # as left
        doctor = subprocess.run([sys.executable, "-m", "asrlens", "doctor", "--db", str(db)],
                                capture_output=True, text=True)
        assert f"[stale_run] run '{RUN}' says 'running'" in doctor.stdout, doctor.stdout
    assert stored_files(db) < FILES, f"nothing left to resume after the kills {kills}"

    proc = start_infer(db, log, "--no-progress")
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out + log.read_text()
    assert rows(db, "select status from runs") == [{"status": "finished"}]
    assert rows(db, COUNTS, run_id=RUN) == rows(sphinx_db, COUNTS, run_id="sphinx")
    assert stored_files(db) == FILES
    assert not wal_path(db).exists()
