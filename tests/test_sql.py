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
    from asrlens.db import named_query

    text = named_query("report", "dataset_issues")
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


# --- the read-only connection reaches nothing outside the database (issue 11, item 1) ---


def count_utterances(db_path) -> int:
    engine = connect(db_path, read_only=True)
    try:
        return query(engine, "select count(*) n from utterances")[0]["n"]
    finally:
        engine.dispose()


def test_copy_to_a_file_is_refused_and_writes_nothing(ingested_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for statement in ["copy utterances to 'leak.csv'",
                      f"copy (select * from utterances) to '{tmp_path / 'leak2.csv'}'",
                      f"export database '{tmp_path / 'dump'}'"]:
        result = sql(ingested_db, statement)
        assert result.exit_code == 1, statement
        assert result.output.startswith("Error: `asrlens sql` does not run"), result.output
        assert "--write" in result.output
        assert result.output.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("statement", [
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/passwd')",
    "select * from glob('/etc/*')",
    "select * from read_csv_auto('/etc/hostname')",
    "select content from read_blob('/etc/passwd')",
])
def test_files_outside_the_database_cannot_be_read(ingested_db, statement):
    result = sql(ingested_db, statement)
    assert result.exit_code == 1
    assert result.output.startswith("Error: `asrlens sql` reads only the database itself")
    assert "root:" not in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("statement", [
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "reset lock_configuration",
    "pragma threads = 1",
    "detach memory",
])
def test_statements_that_change_the_connection_are_refused(ingested_db, statement):
    result = sql(ingested_db, statement)
    assert result.exit_code == 1
    assert result.output.startswith("Error: `asrlens sql` does not run"), result.output
    assert result.output.count("\n") == 1


def test_attach_cannot_empty_another_database(ingested_db, copy_db):
    other = copy_db(ingested_db)
    result = sql(ingested_db, f"attach '{other}' as v (READ_ONLY false); "
                              "delete from v.utterances")
    assert result.exit_code == 1
    assert "does not run ATTACH statements" in result.output
    assert count_utterances(other) == 100


def test_a_hard_link_to_its_own_file_cannot_empty_the_database(ingested_db, copy_db, tmp_path):
    db = copy_db(ingested_db)
    link = tmp_path / "same-file.duckdb"
    link.hardlink_to(db)
    for statement in [f"attach '{link}' as v (READ_ONLY false); delete from v.utterances",
                      f"select * from read_blob('{link}')"]:
        result = sql(db, statement)
        assert result.exit_code == 1, statement
    assert count_utterances(db) == 100


def test_the_sandbox_holds_even_when_the_statement_check_is_bypassed(ingested_db, monkeypatch,
                                                                       tmp_path):
    import asrlens.sql

    monkeypatch.setattr(asrlens.sql, "REFUSED_STATEMENTS", {})
    leak = tmp_path / "leak.csv"
    for statement in [f"copy utterances to '{leak}'", "set enable_external_access = true",
                      f"attach '{tmp_path / 'new.duckdb'}' as v"]:
        with pytest.raises(AsrlensError, match="--write"):
            run_query(ingested_db, statement)
    assert list(tmp_path.iterdir()) == []


def test_reading_the_database_still_works_in_the_sandbox(sphinx_db):
    result = sql(sphinx_db, "select json_extract_string(options, '$.batch_files') b, "
                            "strftime(started_at, '%Y') y from runs; ", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("8,")
    result = sql(sphinx_db, "summarize utterances")
    assert result.exit_code == 0, result.output


def test_write_is_the_explicit_way_out(ingested_db, copy_db, tmp_path):
    db = copy_db(ingested_db)
    out = tmp_path / "ids.csv"
    result = sql(db, f"copy (select utt_id from utterances order by 1 limit 2) to '{out}'; "
                     "delete from utterances where audio_path is null; "
                     "select count(*) n from utterances", "--write", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "32"]
    assert out.read_text().splitlines() == ["utt_id", "LJ001-0001", "LJ001-0002"]
    assert count_utterances(db) == 32


def test_write_does_not_create_a_missing_database(tmp_path):
    result = sql(tmp_path / "none.duckdb", "create table t (a int)", "--write")
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("write", [False, True])
def test_no_progress_bar_is_drawn_into_the_output(ingested_db, copy_db, write):
    """DuckDB draws one on stdout for queries over 2 s: it would land in a redirected csv."""
    db = copy_db(ingested_db) if write else ingested_db
    result = run_query(db, "select current_setting('enable_progress_bar') as bar", write=write)
    assert result.rows == [(False,)]
