"""`asrlens sql`: read-only ad-hoc queries in three formats, with one-line errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from asrlens.cli import cli
from asrlens.db import connect, query
from asrlens.errors import AsrlensError
from asrlens.sql import QueryResult, format_result, parse_params, run_query


def sql(db_path, *args, stdin=None):
    return CliRunner().invoke(cli, ["sql", *args, "--db", str(db_path)], input=stdin)


def test_table_format_is_aligned_with_a_row_count(ingested_db):
    result = sql(ingested_db, "select utt_id, duration_s from audio_files "
                              "order by utt_id limit 2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["utt_id", "duration_s"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == ["LJ001-0001", "9.65501"]
    assert lines[3].split() == ["LJ001-0002", "1.89955"]
    assert lines[-1] == "(2 rows)"
    assert len({len(line) for line in lines[1:4]}) == 1  # columns line up


def test_csv_format_round_trips_through_a_csv_reader(ingested_db):
    result = sql(ingested_db, "select utt_id, transcript, audio_path from utterances "
                              "where utt_id in ('LJ001-0001', 'LJ001-0100') order by utt_id",
                 "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["utt_id"] for r in rows] == ["LJ001-0001", "LJ001-0100"]
    assert rows[0]["transcript"].startswith("Printing, in the only sense")
    assert rows[1]["audio_path"] == ""  # NULL


def test_json_format_is_a_list_of_objects_with_nulls_and_iso_dates(ingested_db):
    result = sql(ingested_db, "select name, n_labels, ingested_at, null as nothing "
                              "from datasets", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["name"] == "ljspeech-sample"
    assert row["n_labels"] == 100
    assert row["nothing"] is None
    assert "T" in row["ingested_at"]


def test_query_from_stdin(ingested_db):
    result = sql(ingested_db, "-", "--format", "csv",
                 stdin="select count(*) as n from utterances where audio_path is null\n")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "68"]


def test_named_parameters(ingested_db):
    result = sql(ingested_db, "select count(*) as n from ingest_issues where kind = $kind",
                 "--param", "kind=missing_audio", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "68"]


def test_report_query_files_run_as_is_with_their_colon_parameters(ingested_db):
    from asrlens.db import read_sql

    text = read_sql("report/queries/dataset_issues.sql")
    assert ":dataset" in text
    result = sql(ingested_db, "-", "--param", "dataset=ljspeech-sample", "--param", "examples=2",
                 "--format", "json", stdin=text)
    assert result.exit_code == 0, result.output
    kinds = {row["kind"] for row in json.loads(result.output)}
    assert "missing_audio" in kinds


def test_colon_placeholders_leave_casts_alone(ingested_db):
    result = sql(ingested_db, "select :n::INTEGER + 1 as m", "--param", "n=41", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["m", "42"]


@pytest.mark.parametrize("statement", [
    "drop table utterances",
    "delete from utterances",
    "insert into datasets select * from datasets",
    "update utterances set transcript = ''",
    "create table x (a int)",
])
def test_writes_fail_with_a_clear_message_and_change_nothing(ingested_db, statement):
    result = sql(ingested_db, statement)
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database is opened read-only by `asrlens sql`")
    assert result.output.count("\n") == 1
    engine = connect(ingested_db, read_only=True)
    try:
        assert query(engine, "select count(*) n from utterances")[0]["n"] == 100
    finally:
        engine.dispose()


@pytest.mark.parametrize(("statement", "expected"), [
    ("selec 1", "Error: Parser Error: syntax error"),
    ("select * from no_such_table", "Error: Catalog Error: Table with name no_such_table"),
    ("select nope from utterances", "Error: Binder Error"),
    ("", "Error: empty query"),
])
def test_duckdb_errors_are_one_line(ingested_db, statement, expected):
    result = sql(ingested_db, statement)
    assert result.exit_code == 1
    assert result.output.startswith(expected)
    assert result.output.count("\n") == 1


def test_a_missing_database_says_what_to_do(tmp_path):
    result = sql(tmp_path / "none.duckdb", "select 1")
    assert result.exit_code == 1
    assert "run `asrlens ingest DATASET` first" in result.output
    assert not (tmp_path / "none.duckdb").exists()


def test_bad_param_syntax_is_an_error():
    with pytest.raises(AsrlensError, match="NAME=VALUE"):
        parse_params(["novalue"])
    assert parse_params(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}


def test_run_query_returns_columns_and_rows(ingested_db):
    result = run_query(ingested_db, "select 1 as one, 'x' as letter")
    assert result == QueryResult(["one", "letter"], [(1, "x")])


def test_table_format_escapes_newlines_and_shortens_long_values():
    text = format_result(QueryResult(["a", "n"], [("two\nlines", 1.5), ("x" * 100, None)]),
                         "table")
    lines = text.splitlines()
    assert lines[2].startswith("two\\nlines")
    assert lines[3].endswith("NULL")
    assert "…" in lines[3] and len(lines[3]) < 80
    assert lines[-1] == "(2 rows)"
