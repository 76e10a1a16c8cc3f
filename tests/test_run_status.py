"""Run statuses tell the truth: the owning process is recorded, a run whose process is gone is
stale, a run in which nothing could be scored fails, and Ctrl-C at any stage says how to go on.

In-process tests with the scripted engine of test_infer; the same behaviour with real signals
sent to a real `asrlens infer` is in test_signals.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from test_infer import SCRIPT, ScriptedRecognizer, make_toy_db, rows, run

from asrlens.cli import cli
from asrlens.db import close, connect, query
from asrlens.infer import NothingScored
from asrlens.owner import current_owner, is_alive, process_started_at, shown_status


@pytest.fixture
def toy_db(tmp_path):
    return make_toy_db(tmp_path)


@pytest.fixture
def scripted(monkeypatch):
    """`asrlens infer` builds a ScriptedRecognizer(**scripted.options) whatever --engine says;
    scripted.built lists the engines built."""
    from asrlens.infer import recognizers

    state = SimpleNamespace(options={}, built=[])

    def build(name, **kwargs):
        state.built.append(ScriptedRecognizer(**state.options))
        return state.built[-1]

    monkeypatch.setattr(recognizers, "get_recognizer", build)
    return state


def a_dead_process() -> dict:
    """The owner columns of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    owner = {"owner_pid": proc.pid, "owner_host": socket.gethostname(),
             "owner_started_at": process_started_at(proc.pid)}
    proc.wait()
    return owner


def set_run(db, run_id: str, **columns) -> None:
    engine = connect(db)
    try:
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        with engine.begin() as conn:
            query(conn, f"update runs set {assignments} where run_id = :run_id",
                  run_id=run_id, **columns)
    finally:
        close(engine)


# --- the owning process --------------------------------------------------------------------


def test_a_run_records_the_process_that_runs_it(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    row = rows(toy_db, "select owner_pid, owner_host, owner_started_at from runs")[0]
    assert row["owner_pid"] == os.getpid()
    assert row["owner_host"] == socket.gethostname()
    assert row["owner_started_at"] == current_owner()["owner_started_at"]


def test_a_process_is_alive_until_it_exits_and_a_reused_pid_is_not_the_owner():
    assert is_alive(current_owner()) is True
    assert is_alive(a_dead_process()) is False
    me = current_owner()
    if me["owner_started_at"] is not None:  # Linux: the start time tells a reused pid apart
        parent = {"owner_pid": os.getppid(), "owner_host": me["owner_host"],
                  "owner_started_at": me["owner_started_at"].replace(year=2001)}
        assert is_alive(parent) is False
    assert is_alive({**me, "owner_host": "another-host"}) is None  # cannot be checked
    assert is_alive({"owner_pid": None}) is False  # an asrlens older than schema v3


def test_a_running_run_whose_process_is_gone_is_stale_then_marked_interrupted(toy_db):
    with pytest.raises(KeyboardInterrupt):
        run(toy_db, ScriptedRecognizer(interrupt_at=4), run_id="r")
    set_run(toy_db, "r", status="running", **a_dead_process())  # as a SIGKILL leaves it
    engine = connect(toy_db, read_only=True)
    try:
        row = query(engine, "select * from runs where run_id = 'r'")[0]
        assert row["status"] == "running" and shown_status(row) == "stale"
    finally:
        close(engine)

    close(connect(toy_db))  # any command that writes
    assert rows(toy_db, "select status from runs") == [{"status": "interrupted"}]
    result = run(toy_db, ScriptedRecognizer(), run_id="r")
    assert result.status == "finished" and result.files_scored == 7


def test_a_run_of_this_very_process_is_not_stale(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    set_run(toy_db, "r", status="running", **current_owner())
    close(connect(toy_db))
    assert rows(toy_db, "select status from runs") == [{"status": "running"}]


def report_html(db: Path, tmp_path: Path) -> str:
    """The report of run 'r' as HTML text."""
    from asrlens.report import render_report

    engine = connect(db, read_only=True)
    try:
        return render_report(engine, run_ids=["r"], out_dir=tmp_path / "rep",
                             audio="none").read_text()
    finally:
        close(engine)


def test_the_report_says_a_stale_run_is_incomplete(toy_db, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(toy_db, ScriptedRecognizer(interrupt_at=5), run_id="r")
    set_run(toy_db, "r", status="running", **a_dead_process())
    html = report_html(toy_db, tmp_path)
    assert '<strong id="run-status">stale</strong>' in html
    assert 'id="run-incomplete"' in html and "This run is incomplete" in html
    assert "the process that ran it is gone" in html
    assert "4 files scored so far, not the 7 of the run" in html


def test_a_finished_run_is_not_called_incomplete(toy_db, tmp_path):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    html = report_html(toy_db, tmp_path)
    assert '<strong id="run-status">finished</strong>' in html
    assert "run-incomplete" not in html


# --- a run in which nothing could be scored ------------------------------------------------


def test_a_run_in_which_every_file_failed_is_failed_and_says_why(toy_db):
    every = ("U001", "U002", "U003", "U004", "U005", "U006", "U007")
    with pytest.raises(NothingScored) as caught:
        run(toy_db, ScriptedRecognizer(fail_on=every), run_id="r")
    assert caught.value.result.status == "failed"
    assert caught.value.result.files_failed == 7
    message = str(caught.value)
    assert message.startswith("no file of run r could be transcribed: all 7 files failed")
    assert "scripted failure" in message
    assert rows(toy_db, "select status, finished_at from runs") == [
        {"status": "failed", "finished_at": None}]
    result = run(toy_db, ScriptedRecognizer(), run_id="r")  # fixed: the resume retries them all
    assert result.status == "finished" and result.files_scored == 7


def test_cli_a_run_with_nothing_scored_exits_1_with_an_error_line(toy_db, scripted):
    scripted.options["fail_on"] = ("U001", "U002", "U003", "U004", "U005", "U006", "U007")
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--run", "r",
                                      "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "run r: failed (0 files transcribed now, 7 failed" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "no file of run r could be transcribed" in errors[0]


def test_a_moved_dataset_folder_is_named_before_anything_runs(toy_db, tmp_path, scripted):
    moved = tmp_path / "moved-away"
    shutil.move(tmp_path / "toy", moved)
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--run", "r",
                                      "--no-progress"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the folder of dataset 'toy' does not exist: ")
    assert str(tmp_path / "toy") in result.output
    assert "System error" not in result.output
    assert scripted.built == [] and rows(toy_db, "select * from runs") == []


def test_a_missing_audio_file_is_named_not_a_system_error(toy_db, tmp_path):
    (tmp_path / "toy" / "wavs" / "U003.wav").unlink()
    result = run(toy_db, ScriptedRecognizer(), run_id="r")
    assert result.files_scored == 6
    assert result.failed == [
        ("U003", f"audio file {tmp_path / 'toy' / 'wavs' / 'U003.wav'} does not exist "
                 f"(moved or deleted?)")]


# --- Ctrl-C at every stage -----------------------------------------------------------------


def test_ctrl_c_while_the_model_loads_exits_130_with_the_hint(toy_db, monkeypatch):
    from asrlens.infer import recognizers

    def interrupted_load(name, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(recognizers, "get_recognizer", interrupted_load)
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--no-progress"])
    assert result.exit_code == 130, result.output
    assert "Aborted!" not in result.output
    assert "Interrupted (Ctrl-C) before any file was transcribed: nothing is lost." in (
        result.output)
    assert "Resume with: asrlens infer" in result.output


def test_ctrl_c_during_the_analysis_exits_130_and_names_the_stored_run(
        toy_db, scripted, monkeypatch):
    import asrlens.analysis

    def interrupted_analysis(engine, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(asrlens.analysis, "analyze", interrupted_analysis)
    result = CliRunner().invoke(cli, ["infer", "--db", str(toy_db), "--run", "r",
                                      "--no-progress"])
    assert result.exit_code == 130, result.output
    assert "Aborted!" not in result.output
    assert "during the analysis: the run is stored whole" in result.output
    assert f"asrlens analyze --run r --db {toy_db}" in result.output
    assert rows(toy_db, "select status from runs") == [{"status": "finished"}]


def test_ctrl_c_in_another_command_exits_130_without_click_aborted(toy_db, monkeypatch):
    import asrlens.analysis

    def interrupted_analysis(engine, **kwargs):
        raise KeyboardInterrupt

    run(toy_db, ScriptedRecognizer(), run_id="r")
    monkeypatch.setattr(asrlens.analysis, "analyze", interrupted_analysis)
    result = CliRunner().invoke(cli, ["analyze", "--db", str(toy_db), "--run", "r"])
    assert result.exit_code == 130
    assert "Aborted!" not in result.output
    assert "Interrupted (Ctrl-C): what was committed before is kept." in result.output



def test_ctrl_c_in_asrlens_run_exits_130_with_the_same_command_to_resume(tmp_path, scripted):
    make_toy_db(tmp_path)
    root = tmp_path / "toy"
    (root / "labels.csv").write_text("".join(f"{u}|{ref}|{ref}\n" for u, ref, _ in SCRIPT))
    scripted.options["interrupt_at"] = 3
    db = tmp_path / "run.duckdb"
    args = ["run", str(root), "--db", str(db), "--run", "r", "--audio", "none",
            "--out", str(tmp_path / "report"), "--no-progress"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 130, result.output
    assert "Aborted!" not in result.output
    assert f"Interrupted (Ctrl-C): what was committed is kept (whole files). Resume with: " \
           f"asrlens {' '.join(args)}" in result.output
    assert rows(db, "select status from runs") == [{"status": "interrupted"}]
    assert rows(db, "select count(*) as n from transcripts") == [{"n": 2}]
