"""Raw scores are computed a batch of files at a time (issue 26): memory does not grow with
the run, and the rows are those of one batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_infer import ScriptedRecognizer, make_toy_db, rows, run

from asrlens import raw_scores
from asrlens.db import connect
from asrlens.raw_scores import score_raw
from asrlens.scoring.normalize import MINIMAL

RAW = {
    "raw_errors": "select * exclude (run_id) from raw_errors where run_id = 'r' order by all",
    "raw_alignment_ops": "select * exclude (run_id) from raw_alignment_ops where run_id = 'r' "
                         "order by all",
}


@pytest.fixture
def toy(tmp_path) -> Path:
    db = make_toy_db(tmp_path)
    run(db, ScriptedRecognizer(), run_id="r")
    return db


def raw_rows(db: Path) -> dict[str, list[dict]]:
    return {table: rows(db, sql) for table, sql in RAW.items()}


def rescore(db: Path, *, clear: bool = False) -> int:
    engine = connect(db)
    try:
        if clear:
            with engine.begin() as conn:
                for table in raw_scores.RAW_TABLES:
                    conn.exec_driver_sql(f"delete from {table} where run_id = 'r'")
        return score_raw(engine, "r")
    finally:
        engine.dispose()


def test_raw_scores_made_two_files_at_a_time_are_those_of_one_batch(toy, monkeypatch):
    whole = raw_rows(toy)
    assert len(whole["raw_errors"]) == 7 and whole["raw_alignment_ops"]
    monkeypatch.setattr(raw_scores, "BATCH_FILES", 2)  # 7 files: batches of 2, 2, 2 and 1
    assert rescore(toy, clear=True) == 7
    assert raw_rows(toy) == whole


def test_only_files_whose_raw_texts_changed_are_scored_again(toy, monkeypatch):
    monkeypatch.setattr(raw_scores, "BATCH_FILES", 2)
    assert rescore(toy) == 0  # nothing changed
    engine = connect(toy)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("update transcripts set hyp_raw = 'the cat' "
                                 "where run_id = 'r' and utt_id = 'U001'")
            conn.exec_driver_sql("update transcripts set error = 'failed on retry', "
                                 "hyp_raw = null where run_id = 'r' and utt_id = 'U004'")
    finally:
        engine.dispose()
    assert rescore(toy) == 1
    errors = {r["utt_id"]: r for r in raw_rows(toy)["raw_errors"]}
    assert errors["U001"]["hyp_text"] == MINIMAL("the cat") and "U004" not in errors
    ops = rows(toy, "select op, ref_word, hyp_word from raw_alignment_ops "
                    "where run_id = 'r' and utt_id = 'U001' order by op_index")
    assert [o["hyp_word"] for o in ops if o["op"] != "delete"] == MINIMAL("the cat").split()
    assert len(rows(toy, "select * from raw_errors where run_id = 'r'")) == 6
    assert not rows(toy, "select * from raw_alignment_ops where utt_id = 'U004'")
