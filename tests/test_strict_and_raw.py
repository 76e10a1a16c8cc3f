"""Nothing dropped silently, raw beside normalized: run_summary's strict WER and raw WER.

A failed file counts in strict_wer with all its reference words deleted; every scored file
is also scored under the minimal normalization (case and punctuation only) in raw_errors,
and normalizer_word_effects names the words whose errors the normalizer removed or added.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_infer import SCRIPT, ScriptedRecognizer, make_toy_db, rows, run

from asrlens import db as asrlens_db
from asrlens.analysis import analyze
from asrlens.db import connect
from asrlens.scoring.normalize import LJSPEECH, MINIMAL
from asrlens.scoring.score import score_texts


@pytest.fixture
def toy(tmp_path) -> Path:
    return make_toy_db(tmp_path)


def summary(db: Path, run_id: str) -> dict:
    return rows(db, "select * from run_summary where run_id = :r", r=run_id)[0]


def test_a_failed_file_counts_in_the_strict_wer_with_all_its_words_deleted(toy):
    run(toy, ScriptedRecognizer(fail_on=("U004",)), run_id="r")
    s = summary(toy, "r")
    lost = len(LJSPEECH("Gutenberg and Schoeffer").split())
    assert (s["files_scored"], s["files_failed"], s["files_not_attempted"]) == (6, 1, 0)
    assert s["strict_ref_words"] == s["ref_words"] + lost
    errors = s["substitutions"] + s["deletions"] + s["insertions"]
    assert s["wer"] == pytest.approx(errors / s["ref_words"])
    assert s["strict_wer"] == pytest.approx((errors + lost) / (s["ref_words"] + lost))
    assert s["files_empty_hyp"] == 1  # U005: scored, all deletions, in both WERs


def test_without_failures_the_strict_wer_is_the_wer(toy):
    run(toy, ScriptedRecognizer(), run_id="r")
    s = summary(toy, "r")
    assert s["strict_wer"] == pytest.approx(s["wer"]) and s["files_failed"] == 0


def test_files_not_yet_attempted_are_counted_apart(toy):
    with pytest.raises(KeyboardInterrupt):
        run(toy, ScriptedRecognizer(interrupt_at=4), run_id="r", batch_files=1)
    s = summary(toy, "r")
    assert s["files_not_attempted"] == 7 - s["files_scored"] - s["files_failed"] > 0


def test_every_scored_file_is_also_scored_raw(toy):
    run(toy, ScriptedRecognizer(), run_id="r")
    raw = {r["utt_id"]: r for r in rows(toy, "select * from raw_errors where run_id = 'r'")}
    assert sorted(raw) == [u for u, _, _ in SCRIPT]
    for utt_id, ref, hyp in SCRIPT:
        assert (raw[utt_id]["ref_text"], raw[utt_id]["hyp_text"]) == (MINIMAL(ref), MINIMAL(hyp))
    assert raw["U002"]["ref_text"] == "A WELLKNOWN PRINTERS MARK"
    s = summary(toy, "r")
    raw_errors = sum(r["substitutions"] + r["deletions"] + r["insertions"] for r in raw.values())
    assert s["raw_ref_words"] == sum(r["ref_words"] for r in raw.values())
    assert s["raw_wer"] == pytest.approx(raw_errors / s["raw_ref_words"])
    ops = rows(toy, "select count(*) as n from raw_alignment_ops where run_id = 'r'")[0]["n"]
    assert ops == sum(r["hits"] + r["substitutions"] + r["deletions"] + r["insertions"]
                      for r in raw.values())


def test_normalizer_word_effects_names_the_words_whose_errors_it_removed_or_added(toy):
    run(toy, ScriptedRecognizer(), run_id="r")
    effects = {r["word"]: (r["raw_errors"], r["normalized_errors"], r["change"])
               for r in rows(toy, "select * from normalizer_word_effects where run_id = 'r'")}
    # U002 "A well-known printer's mark" heard as "a well known printers mark":
    # raw: an inserted WELL and WELLKNOWN -> KNOWN; normalized: only PRINTER'S -> PRINTERS
    assert effects["WELLKNOWN"] == (1, 0, -1)
    assert effects["WELL"] == (1, 0, -1)
    assert effects["PRINTER'S"] == (0, 1, 1)
    assert all(change != 0 for *_, change in effects.values())


def test_sclite_alignment_is_recorded_and_used_for_both_scores(toy):
    run(toy, ScriptedRecognizer(), run_id="u")
    run(toy, ScriptedRecognizer(), run_id="s", alignment="sclite")
    assert summary(toy, "s")["alignment"] == "sclite" and summary(toy, "u")["alignment"] == "unit"
    stored = rows(toy, "select t.ref_norm, t.hyp_norm, e.* from transcripts t join "
                       "utterance_errors e using (run_id, utt_id) where run_id = 's'")
    for row in stored:
        expected = score_texts(row["ref_norm"], row["hyp_norm"], alignment="sclite")
        assert {k: row[k] for k in ("hits", "substitutions", "deletions", "insertions")} == {
            k: getattr(expected, k) for k in ("hits", "substitutions", "deletions", "insertions")}
    raw_ops = rows(toy, "select count(*) as n from raw_alignment_ops where run_id = 's'")
    assert raw_ops[0]["n"] > 0
    from asrlens.errors import AsrlensError

    with pytest.raises(AsrlensError, match="was started with alignment 'sclite', not 'unit'"):
        run(toy, ScriptedRecognizer(), run_id="s", alignment="unit")


def test_a_version_1_database_is_migrated_and_analyze_adds_raw_scores(toy, monkeypatch):
    run(toy, ScriptedRecognizer(), run_id="old")
    engine = connect(toy)  # make it look like a file written before schema version 5
    try:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            for statement in [
                "drop view run_summary", "drop view normalizer_word_effects",
                "drop table raw_errors", "drop table raw_alignment_ops",
                "drop table import_issues", "alter table runs drop column alignment",
                "alter table runs drop column source_path",
                "alter table runs drop column source_format",
                "delete from schema_version", "insert into schema_version (version) values (1)",
            ]:
                raw.execute(statement)
    finally:
        engine.dispose()
    engine = connect(toy)
    try:
        version = asrlens_db.query(engine, "select max(version) as v from schema_version")
        assert version == [{"v": asrlens_db.SCHEMA_VERSION}]
        old = asrlens_db.query(engine, "select * from run_summary where run_id = 'old'")[0]
        assert (old["alignment"], old["raw_wer"]) == ("unit", None)
        assert old["strict_wer"] == pytest.approx(old["wer"])
        analyze(engine, run_id="old")
        again = asrlens_db.query(engine, "select * from run_summary where run_id = 'old'")[0]
        assert again["raw_wer"] is not None and again["wer"] == old["wer"]
    finally:
        engine.dispose()
