"""Files whose reference changed are rescored RESCORE_FILES at a time (issue 26): memory does
not grow with the number of fixed labels, and the rows are those of one batch.
"""

from __future__ import annotations

from conftest import rows
from test_infer import run
from test_infer_integrity import Listener, dataset, relabel  # noqa: F401 (dataset: a fixture)

from asrlens.infer import refresh
from asrlens.ingest import ingest_into

TABLES = {
    "transcripts": "select * exclude (created_at, rescored_at, compute_s) from transcripts "
                   "order by all",
    "utterance_errors": "select * from utterance_errors order by all",
    "alignment_ops": "select * from alignment_ops order by all",
    "raw_errors": "select * from raw_errors order by all",
    "raw_alignment_ops": "select * from raw_alignment_ops order by all",
}


def test_references_rescored_one_file_at_a_time_give_the_rows_of_one_batch(
        dataset, tmp_path, monkeypatch):  # noqa: F811
    whole, batched = tmp_path / "whole.duckdb", tmp_path / "batched.duckdb"
    for db_path in (whole, batched):
        ingest_into(db_path, dataset, progress=False)
        run(db_path, Listener(), run_id="r")
    relabel(dataset, "LJ001-0002", "in being comparatively new.")
    relabel(dataset, "LJ001-0008", "a fixed label")
    assert run_after_ingest(whole, dataset).files_rescored == 2
    monkeypatch.setattr(refresh, "RESCORE_FILES", 1)
    assert run_after_ingest(batched, dataset).files_rescored == 2
    assert {t: rows(batched, sql) for t, sql in TABLES.items()} == {
        t: rows(whole, sql) for t, sql in TABLES.items()}
    assert rows(whole, "select count(*) as n from transcripts where rescored_at is not null"
                )[0]["n"] == 2


def run_after_ingest(db_path, root):
    ingest_into(db_path, root, progress=False)
    return run(db_path, Listener(), run_id="r")
