"""The database file: schema applied idempotently, versions recorded, migrations keep data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from asrlens import db
from asrlens.errors import AsrlensError

PUBLIC_TABLES = {
    "datasets", "utterances", "audio_files", "ingest_issues",
    "runs", "transcripts", "utterance_errors", "alignment_ops", "hyp_words", "hyp_segments",
    "utterance_features", "op_tags",
}


def table_names(engine) -> set[str]:
    rows = db.query(engine, "select table_name from information_schema.tables")
    return {r["table_name"] for r in rows}


def test_connect_creates_every_public_table_and_records_the_version(db_path):
    engine = db.connect(db_path)
    try:
        assert PUBLIC_TABLES <= table_names(engine)
        assert "run_summary" in table_names(engine)  # views are listed too
        versions = db.query(engine, "select version from schema_version")
        assert versions == [{"version": db.SCHEMA_VERSION}]
    finally:
        engine.dispose()


def test_applying_the_schema_twice_keeps_rows_and_adds_no_version(db_path):
    engine = db.connect(db_path)
    try:
        with engine.begin() as conn:
            db.insert_rows(conn, "ingest_issues", [
                {"dataset": "d", "kind": "bad_line", "message": "line 3 has 4 fields"},
            ])
        db.apply_schema(engine)
        db.apply_schema(engine)
        assert db.query(engine, "select count(*) as n from ingest_issues") == [{"n": 1}]
        assert db.query(engine, "select count(*) as n from schema_version") == [{"n": 1}]
    finally:
        engine.dispose()


def test_migrations_run_on_an_older_file_without_losing_rows(db_path, monkeypatch):
    engine = db.connect(db_path)
    with engine.begin() as conn:
        db.insert_rows(conn, "ingest_issues", [{"dataset": "d", "kind": "k", "message": "m"}])
    engine.dispose()

    newer = db.SCHEMA_VERSION + 1
    monkeypatch.setattr(db, "SCHEMA_VERSION", newer)
    migration = "alter table ingest_issues add column if not exists severity varchar"
    monkeypatch.setitem(db.MIGRATIONS, newer, [migration])
    engine = db.connect(db_path)
    try:
        rows = db.query(engine, "select kind, severity from ingest_issues")
        assert rows == [{"kind": "k", "severity": None}]
        versions = [r["version"] for r in db.query(engine, "select version from schema_version")]
        assert versions == [newer - 1, newer]
    finally:
        engine.dispose()


def test_a_file_from_a_newer_asrlens_is_refused_with_a_clear_message(db_path, monkeypatch):
    db.connect(db_path).dispose()
    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION - 1)
    with pytest.raises(AsrlensError, match="newer than this asrlens"):
        db.connect(db_path)


def test_read_only_connection_refuses_writes(db_path):
    db.connect(db_path).dispose()
    engine = db.connect(db_path, read_only=True)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.execute(sa.text("drop table runs"))
    finally:
        engine.dispose()


def test_read_only_connection_to_a_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(AsrlensError, match="asrlens ingest"):
        db.connect(tmp_path / "nope.duckdb", read_only=True)


def test_a_file_that_is_not_duckdb_gives_one_clear_error(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("this is not a database\n" * 100)
    with pytest.raises(AsrlensError, match="cannot open database"):
        db.connect(bogus)


def test_database_path_comes_from_argument_then_environment_then_default(monkeypatch):
    monkeypatch.setenv(db.ENV_DB, "/tmp/from-env.duckdb")
    assert str(db.resolve_path("x.duckdb")) == "x.duckdb"
    assert str(db.resolve_path(None)) == "/tmp/from-env.duckdb"
    monkeypatch.delenv(db.ENV_DB)
    assert str(db.resolve_path(None)) == db.DEFAULT_DB


def test_insert_rows_replace_overwrites_by_primary_key(db_path):
    engine = db.connect(db_path)
    row = {"dataset": "d", "utt_id": "u1", "transcript": "old", "normalized_transcript": None,
           "audio_path": None, "labels_line": 1}
    try:
        with engine.begin() as conn:
            db.insert_rows(conn, "utterances", [row])
        with engine.begin() as conn:
            db.insert_rows(conn, "utterances", [{**row, "transcript": "new"}], replace=True)
        rows = db.query(engine, "select utt_id, transcript from utterances")
        assert rows == [{"utt_id": "u1", "transcript": "new"}]
    finally:
        engine.dispose()
