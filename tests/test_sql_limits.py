"""`asrlens sql` on long and large queries: Ctrl-C and SIGTERM stop it within a second (exit
130 / 143, one line), --timeout and --memory-limit bound it, rows stream (`| head` in constant
memory), and DuckDB spills to a private folder, never to a `<db>.tmp` a user made.

The commands run as real processes (python -m asrlens) that get real signals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ENDLESS = "select count(*) from range(1e12::bigint)"  # minutes of work for DuckDB


def start(db: Path, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "asrlens", "sql", "--db", str(db), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def wait_for_query(proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until the query runs: DuckDB's threads have started (a busy machine can take seconds
    to import the modules), then one second more."""
    deadline = time.monotonic() + timeout
    while len(os.listdir(f"/proc/{proc.pid}/task")) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1)
    assert proc.poll() is None


@pytest.mark.parametrize(("signum", "status", "name"), [(signal.SIGINT, 130, "Ctrl-C"),
                                                        (signal.SIGTERM, 143, "SIGTERM")])
def test_a_stop_signal_ends_a_long_query_within_a_second(ingested_db, signum, status, name):
    proc = start(ingested_db, ENDLESS)
    wait_for_query(proc)
    sent = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == status, err
    assert err == f"Interrupted ({name}): the query was stopped; the database is unchanged\n"
    assert out == ""
    assert took < 1.5, took


def test_timeout_stops_the_query_with_one_line(ingested_db):
    started = time.monotonic()
    proc = start(ingested_db, ENDLESS, "--timeout", "1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err == "Error: the query ran past --timeout 1 s and was stopped\n"
    assert time.monotonic() - started < 15  # start-up on a busy machine, then 1 s


def test_a_malformed_memory_limit_is_refused_before_the_query(ingested_db):
    proc = start(ingested_db, ENDLESS, "--memory-limit", "lots")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err == "Error: --memory-limit 'lots' is not a size like 500MB, 2GB or 1.5GiB\n"


def test_memory_limit_is_applied(ingested_db):
    proc = start(ingested_db, "select current_setting('memory_limit') as m", "--format", "csv",
                 "--memory-limit", "300MB")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines()[1] in ("286.1 MiB", "300.0 MB"), out


PIPE_TO_HEAD = """
import resource, subprocess, sys
sql = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
head = subprocess.Popen(["head", "-3"], stdin=sql.stdout)
sql.stdout.close()  # head's exit closes the pipe: sql sees a broken pipe, as under a shell
head.wait()
sql.wait()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""
"""`SQL | head -3`, run by a small interpreter that then prints its children's peak memory
(KiB) on stderr. A process measured straight from the test would count the test process's own
memory: Linux keeps a forked child's high-water mark (the parent's pages) across exec."""


def test_sql_piped_to_head_streams_in_constant_memory(ingested_db):
    """2 million rows of ~330 bytes: held whole they take about 700 MB before `head` sees a
    line; streamed, the first lines come at once and the process stays small."""
    query = "select range as i, repeat('x', 300) as s from range(2000000)"
    done = subprocess.run(
        [sys.executable, "-c", PIPE_TO_HEAD, sys.executable, "-m", "asrlens", "sql", "--db",
         str(ingested_db), "--format", "csv", query],
        capture_output=True, text=True, timeout=120)
    out, err = done.stdout, done.stderr
    assert out.splitlines()[0] == "i,s"
    assert out.splitlines()[1] == "0," + "x" * 300
    assert len(out.splitlines()) == 3
    *messages, peak_kib = err.splitlines()
    assert messages == []  # no BrokenPipe traceback
    peak_mb = int(peak_kib) / 1024  # the larger of asrlens and head
    assert peak_mb < 300, peak_mb


def test_the_spill_folder_is_private_and_a_db_tmp_link_is_not_followed(ingested_db, copy_db,
                                                                       tmp_path):
    db = copy_db(ingested_db)
    link = Path(f"{db}.tmp")
    link.symlink_to("/etc")
    private = tmp_path / "tmpdir"
    private.mkdir()
    env = {**os.environ, "TMPDIR": str(private)}
    proc = start(db, f"select * from read_text('{link}/hostname')", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert err.startswith("Error: `asrlens sql` reads only the database itself"), err
    assert out == ""
    # a query that spills: sorted with little memory, through the private folder
    proc = start(db, "select i from (select range as i, random() as r from range(3000000) "
                     "order by r) limit 1", "--memory-limit", "20MB", env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert list(private.iterdir()) == []  # removed at the end
    assert link.is_symlink() and os.readlink(link) == "/etc"
