"""Reading while another process writes: one line naming the writer (its command, pid and
start), or, with --wait SECONDS, the read waits for it. A command that picks the default run
says which one it picked."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest
from click.testing import CliRunner
from synthetic import make_synthetic_db

from asrlens.cli import cli


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory):
    return make_synthetic_db(tmp_path_factory.mktemp("busy") / "synth.duckdb", n_utts=40,
                             n_runs=2)


def hold(db, *extra: str) -> subprocess.Popen:
    """Another asrlens process holding `db` read-write (a long `sql --write` query)."""
    proc = subprocess.Popen([sys.executable, "-m", "asrlens", "sql", "--write", "--db", str(db),
                             "--wait", "60",  # the probe below holds the file for an instant
                             "select count(*) from range(1e12::bigint)", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:  # until it holds the lock
        assert proc.poll() is None, proc.stderr.read()
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException:
            return proc
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_a_reader_names_the_process_that_holds_the_database(synth_db, copy_db, tmp_path):
    db = copy_db(synth_db)
    holder = hold(db)
    try:
        for args in (["report", "--out", str(tmp_path / "r"), "--audio", "none"],
                     ["sql", "select 1"], ["export", "--run", "run0"]):
            result = CliRunner().invoke(cli, [*args, "--db", str(db)])
            assert result.exit_code == 1, result.output
            lines = result.output.strip().splitlines()
            assert len(lines) == 1, result.output
            assert lines[0].startswith(f"Error: cannot open database {db}: in use by `asrlens "
                                       f"sql --write --db {db} --wait 60"), lines[0]
            assert f"(pid {holder.pid}, since 20" in lines[0]
            assert lines[0].endswith("run this when it ends, or wait for it with "
                                     "--wait SECONDS")
    finally:
        holder.terminate()
        holder.wait(60)


def test_wait_waits_for_the_writer_to_end(synth_db, copy_db):
    db = copy_db(synth_db)
    holder = hold(db, "--timeout", "3")
    result = CliRunner().invoke(cli, ["sql", "select count(*) as n from runs", "--format", "csv",
                                      "--db", str(db), "--wait", "120"])
    assert result.exit_code == 0, result.output
    assert result.output == "n\n2\n"
    assert holder.wait(60) == 1  # it was stopped by its --timeout, and the reader then read


def test_export_and_report_say_which_run_they_picked(synth_db, tmp_path):
    result = CliRunner().invoke(cli, ["export", "--db", str(synth_db), "--format", "csv",
                                      "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 0, result.output
    assert "Using run run1 (finished, the most recent; choose another with --run NAME)" in (
        result.stderr)
    result = CliRunner().invoke(cli, ["report", "--db", str(synth_db), "--audio", "none",
                                      "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Using run run1 (finished, the most recent")
