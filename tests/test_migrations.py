"""A database file of every older schema version migrates to exactly this schema.

tests/fixtures/schema/vN.sql is schema.sql as asrlens wrote it at version N (from git history,
see tests/fixtures/schema/README.md). Each is built into a file stamped with its version,
opened with asrlens (which migrates it), and every table's columns and types are compared
with those of a fresh database.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from asrlens import db
from asrlens.db.migrations import added_columns, schema_columns, table_columns

FIXTURES = Path(__file__).parent / "fixtures" / "schema"
OLD_VERSIONS = sorted(int(re.fullmatch(r"v(\d+)\.sql", p.name)[1])
                      for p in FIXTURES.glob("v*.sql"))


def build_old_file(path: Path, version: int) -> None:
    """A database file as asrlens `version` left it: its schema.sql and its version row."""
    conn = duckdb.connect(str(path))
    try:
        conn.execute((FIXTURES / f"v{version}.sql").read_text(encoding="utf-8"))
        conn.execute("insert into schema_version (version) values (?)", [version])
    finally:
        conn.close()


def columns_and_types(path: Path) -> dict[str, dict[str, str]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return {table: {column: data_type for column, (data_type, _) in columns.items()}
                for table, columns in table_columns(conn).items()}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fresh_columns(tmp_path_factory) -> dict[str, dict[str, str]]:
    path = tmp_path_factory.mktemp("fresh") / "fresh.duckdb"
    db.close(db.connect(path))
    return columns_and_types(path)


def test_there_is_a_fixture_for_every_older_version():
    assert OLD_VERSIONS == list(range(1, db.SCHEMA_VERSION))


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_an_older_file_migrates_to_the_columns_and_types_of_a_fresh_database(
    tmp_path, version, fresh_columns
):
    path = tmp_path / f"v{version}.duckdb"
    build_old_file(path, version)
    before = columns_and_types(path)
    assert before and before != fresh_columns  # the fixture really is an older schema

    db.close(db.connect(path))

    migrated = columns_and_types(path)
    assert migrated.keys() == fresh_columns.keys()
    for table, columns in fresh_columns.items():
        assert migrated[table] == columns, table
    engine = db.connect(path, read_only=True)
    try:
        versions = [r["version"] for r in db.query(engine, "select version from schema_version")]
        assert max(versions) == db.SCHEMA_VERSION
        assert db.query(engine, "select count(*) as n from run_summary") == [{"n": 0}]
    finally:
        db.close(engine)


def test_a_migrated_file_keeps_its_rows_and_fills_new_columns(tmp_path):
    """Version 3 had transcripts without ref_sha256: migration 4 fills it from ref_raw, and
    runs.alignment (version 5) takes its DEFAULT on existing rows."""
    path = tmp_path / "v3.duckdb"
    build_old_file(path, 3)
    conn = duckdb.connect(str(path))
    conn.execute("insert into runs (run_id, dataset, engine, model, normalizer, "
                 "reference_column, device, precision, status, started_at) values ('r1', 'd', "
                 "'pocketsphinx', 'en-us', 'ljspeech-v1', 'transcript', 'cpu', 'fp32', "
                 "'finished', now())")
    conn.execute("insert into transcripts (run_id, utt_id, created_at, ref_raw, hyp_raw) "
                 "values ('r1', 'u1', now(), 'the cat', 'the hat')")
    conn.close()

    db.close(db.connect(path))

    engine = db.connect(path, read_only=True)
    try:
        rows = db.query(engine, "select t.hyp_raw, t.ref_sha256 = sha256('the cat') as hashed, "
                                "r.alignment from transcripts t join runs r using (run_id)")
        assert rows == [{"hyp_raw": "the hat", "hashed": True, "alignment": "unit"}]
    finally:
        db.close(engine)


def test_added_columns_come_from_schema_sql_with_type_and_default():
    conn = duckdb.connect(":memory:")
    conn.execute("create table runs (run_id varchar primary key)")
    schema = ("create table if not exists runs (run_id varchar primary key, "
              "alignment varchar default 'unit', seed integer);"
              "create table if not exists other (x integer)")
    statements = added_columns(conn, schema)
    assert statements == ['ALTER TABLE runs ADD COLUMN "alignment" VARCHAR DEFAULT \'unit\'',
                          'ALTER TABLE runs ADD COLUMN "seed" INTEGER']
    for statement in statements:
        conn.execute(statement)
    assert added_columns(conn, schema) == []
    assert list(schema_columns(schema)["runs"]) == ["run_id", "alignment", "seed"]
