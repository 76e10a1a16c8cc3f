"""`asrlens doctor` and the files that make up a database.

After every command that wrote, the .duckdb file alone holds the data (the write-ahead log is
checkpointed into it); when that fails, the command warns and exits 1. `doctor` reports the
schema version, rows per table, a left-over WAL, stale runs and orphan rows, with what to do.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest
from click.testing import CliRunner
from test_infer import ScriptedRecognizer, make_toy_db, run
from test_run_status import a_dead_process, set_run

from asrlens import db as asrlens_db
from asrlens.cli import cli
from asrlens.db import SCHEMA_VERSION, close, connect, query, wal_path
from asrlens.health.doctor import diagnose


@pytest.fixture
def toy_db(tmp_path):
    return make_toy_db(tmp_path)


def doctor(db, *args):
    return CliRunner().invoke(cli, ["doctor", "--db", str(db), *args])


def a_wal_left_behind(db) -> None:
    """Commit a change and stop without a checkpoint, as a killed process does."""
    connection = duckdb.connect(str(db))
    connection.execute("pragma disable_checkpoint_on_shutdown")
    connection.execute("update runs set wall_s = wall_s + 1")
    connection.close()
    assert wal_path(db).exists()


# --- the .duckdb file alone holds the data -------------------------------------------------


def test_after_ingest_the_duckdb_file_alone_holds_every_row(sample_dir, tmp_path):
    db = tmp_path / "speech.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(sample_dir), "--db", str(db),
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert not wal_path(db).exists()
    alone = tmp_path / "copied" / "speech.duckdb"
    alone.parent.mkdir()
    shutil.copy(db, alone)  # the .duckdb file only
    engine = connect(alone, read_only=True)
    try:
        assert query(engine, "select count(*) as n from utterances") == [{"n": 100}]
        assert query(engine, "select count(*) as n from audio_files") == [{"n": 32}]
    finally:
        close(engine)


def test_a_command_that_writes_folds_a_left_wal_in(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    a_wal_left_behind(toy_db)
    result = CliRunner().invoke(cli, ["analyze", "--db", str(toy_db), "--run", "r"])
    assert result.exit_code == 0, result.output
    assert not wal_path(toy_db).exists()


def test_a_failed_checkpoint_is_a_warning_and_exit_1_not_stored(sample_dir, tmp_path,
                                                                 monkeypatch):
    def full_disk(connection):
        connection.execute("pragma disable_checkpoint_on_shutdown")  # the close fails too
        raise duckdb.IOException('Could not write file "speech.duckdb": No space left on '
                                 'device')

    db = tmp_path / "speech.duckdb"
    asrlens_db.close(asrlens_db.connect(db))  # an existing database (a new one that only a
    # .wal completes is removed instead: tests/test_ingest_failures.py)
    monkeypatch.setattr(asrlens_db, "_checkpoint", full_disk)
    result = CliRunner().invoke(cli, ["ingest", str(sample_dir), "--db", str(db),
                                      "--no-progress"])
    assert result.exit_code == 1
    assert "Stored in" not in result.output
    warning = result.output.strip().splitlines()[-1]
    assert warning.startswith(f"Warning: {db}.wal is left beside {db} (the checkpoint "
                              f'failed: Could not write file "speech.duckdb": No space left '
                              f'on device)')
    assert "copy or move the two files together" in warning
    assert wal_path(db).exists()


# --- doctor --------------------------------------------------------------------------------


def test_doctor_on_a_healthy_database_finds_nothing_and_exits_0(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    result = doctor(toy_db)
    assert result.exit_code == 0, result.output
    assert f"schema version: {SCHEMA_VERSION} (this asrlens: {SCHEMA_VERSION})" in result.output
    assert "write-ahead log: none" in result.output
    assert "transcripts 7," in result.output and "utterances 9\n" in result.output
    assert result.output.rstrip().endswith("No problems found.")


def test_doctor_names_a_stale_run_and_how_to_resume_it(toy_db):
    with pytest.raises(KeyboardInterrupt):
        run(toy_db, ScriptedRecognizer(interrupt_at=3), run_id="r")
    set_run(toy_db, "r", status="running", **a_dead_process())
    result = doctor(toy_db)
    assert result.exit_code == 1
    assert "[stale_run] run 'r' says 'running' but its process" in result.output
    assert f"What to do: resume it: asrlens infer --run r --db {toy_db}" in result.output
    engine = connect(toy_db, read_only=True)
    try:  # doctor never writes
        assert query(engine, "select status from runs") == [{"status": "running"}]
    finally:
        close(engine)


def test_doctor_reports_a_wal_and_fix_folds_it_in_and_marks_stale_runs(toy_db):
    with pytest.raises(KeyboardInterrupt):
        run(toy_db, ScriptedRecognizer(interrupt_at=3), run_id="r")
    set_run(toy_db, "r", status="running", **a_dead_process())
    a_wal_left_behind(toy_db)
    result = doctor(toy_db)
    assert result.exit_code == 1
    assert f"[wal] {toy_db}.wal (" in result.output
    assert "toy.duckdb copied alone would lose them" in result.output

    fixed = doctor(toy_db, "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "fixed: folded toy.duckdb.wal into toy.duckdb" in fixed.output
    assert "fixed: marked interrupted (stale): r" in fixed.output
    assert not wal_path(toy_db).exists()
    assert diagnose(toy_db).findings == []


def test_doctor_counts_orphan_rows_and_gives_the_statement_that_deletes_them(toy_db):
    run(toy_db, ScriptedRecognizer(), run_id="r")
    engine = connect(toy_db)
    with engine.begin() as conn:
        query(conn, "delete from transcripts where utt_id in ('U001', 'U002')")
        query(conn, "delete from datasets")
    close(engine)
    findings = {(f.kind, f.message.split(" (")[0]) for f in diagnose(toy_db).findings}
    assert ("orphan_rows", "2 rows of utterance_errors belong to no transcript") in findings
    assert ("orphan_rows", "9 rows of utterances belong to no dataset") in findings
    assert ("orphan_rows", "1 rows of runs belong to no dataset") in findings
    result = doctor(toy_db)
    assert ("What to do: delete them: asrlens sql --write 'delete from utterance_errors where "
            "(run_id, utt_id) not in (select (run_id, utt_id) from transcripts)'") in result.output


def test_doctor_says_an_older_schema_is_migrated_by_the_next_write(toy_db, monkeypatch):
    monkeypatch.setattr(asrlens_db, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    finding = diagnose(toy_db).findings[0]
    assert finding.kind == "schema"
    assert finding.message.startswith(f"schema version {SCHEMA_VERSION} is older")


def test_doctor_on_a_missing_file_is_an_error_line(tmp_path):
    result = doctor(tmp_path / "none.duckdb")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: no database at {tmp_path / 'none.duckdb'}; run "
                                    "`asrlens ingest DATASET` first")
