"""`asrlens gate`: a one-sided, noise-aware CI check of a candidate run against a baseline,
and the data fingerprints that keep compare and gate from pairing different data.

Runs are imported from hypothesis files (`asrlens import-run`): 40 files of 25 reference
words (1,000 words, so one WER point is 10 word errors) in two groups, A and B (the default
group rule, the id's prefix before '-'). No model, no audio.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import METADATA_CSV, rows
from test_infer import make_db

from asrlens.cli import cli
from asrlens.db import connect, query

WORDS_PER_FILE = 25
FILES_PER_GROUP = 20
DATASET = "toy"


def references() -> dict[str, list[str]]:
    """utt_id -> 25 reference words (lower-case LJSpeech words), ids A-0000.., B-0000.."""
    sentences = []
    for line in METADATA_CSV.read_text(encoding="utf-8").splitlines():
        words = re.sub(r"[^a-z ]+", " ", line.split("|")[2].lower()).split()
        if len(words) >= WORDS_PER_FILE:
            sentences.append(words[:WORDS_PER_FILE])
        if len(sentences) == 2 * FILES_PER_GROUP:
            break
    ids = [f"{g}-{i:04d}" for g in "AB" for i in range(FILES_PER_GROUP)]
    return dict(zip(ids, sentences, strict=True))


REFS = references()


def with_errors(errors: dict[str, int]) -> dict[str, str]:
    """Hypotheses: the references with `errors[utt_id]` words substituted (from the start)."""
    hyps = {}
    for utt_id, words in REFS.items():
        n = errors.get(utt_id, 0)
        hyps[utt_id] = " ".join(["zzz"] * n + words[n:])
    return hyps


BASELINE_ERRORS = {u: 1 for i, u in enumerate(REFS) if i % 2 == 0}
"""One substitution in every other file: 20 errors, 2.0% WER, 10 in each group."""


@pytest.fixture
def db(tmp_path) -> Path:
    labels = [(u, " ".join(w), None, f"wavs/{u}.wav") for u, w in REFS.items()]
    path = make_db(tmp_path / "gate.duckdb", tmp_path / "root", labels, name=DATASET)
    import_hyps(path, tmp_path, "baseline", with_errors(BASELINE_ERRORS))
    return path


def import_hyps(db: Path, folder: Path, run_id: str, hyps: dict[str, str]) -> None:
    path = folder / f"{run_id}.csv"
    path.write_text("utt_id,hypothesis\n" + "".join(f"{u},{h}\n" for u, h in hyps.items()),
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["import-run", str(path), "--run", run_id, "--db", str(db)])
    assert result.exit_code == 0, result.output


def gate(db: Path, candidate: str, *args: str):
    return CliRunner().invoke(cli, ["gate", candidate, "--baseline", "baseline", *args,
                                    "--db", str(db)])


def wer(db: Path, run_id: str) -> float:
    return rows(db, "select wer from run_summary where run_id = :r", r=run_id)[0]["wer"]


def test_an_improvement_passes(db, tmp_path):
    import_hyps(db, tmp_path, "better", with_errors({}))
    assert wer(db, "better") == 0.0 < wer(db, "baseline")
    result = gate(db, "better", "--groups", "0")
    assert result.exit_code == 0, result.output
    assert "### Gate: passed" in result.output
    assert "better is better than baseline by 2.00 WER points" in result.output


def test_rescoring_the_same_hypotheses_passes(db, tmp_path):
    import_hyps(db, tmp_path, "again", with_errors(BASELINE_ERRORS))
    assert wer(db, "again") == wer(db, "baseline")
    result = gate(db, "again", "--groups", "0")
    assert result.exit_code == 0, result.output
    # every bootstrap replicate has ΔWER = 0: never worse
    assert "| pass all files | 40 | 2.00% | 2.00% | +0.00 | 0.000 |" in result.output


def test_a_one_point_regression_over_40_files_fails(db, tmp_path):
    worse = dict(BASELINE_ERRORS)
    for utt_id in list(REFS)[1:40:4]:  # ten files that had no error get one
        worse[utt_id] = worse.get(utt_id, 0) + 1
    import_hyps(db, tmp_path, "worse", with_errors(worse))
    assert wer(db, "worse") - wer(db, "baseline") == pytest.approx(0.01)
    junit = tmp_path / "gate.xml"
    result = gate(db, "worse", "--junit", str(junit))
    assert result.exit_code == 1, result.output
    assert "### Gate: FAILED" in result.output
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and "+1.00 points" in failure.get("message")
    # allowing one point (the regression is exactly one): not worse by *more* than allowed
    assert gate(db, "worse", "--max-wer-increase", "1").exit_code == 0


def test_a_regression_in_one_group_fails_only_with_groups(db, tmp_path):
    mixed = dict(BASELINE_ERRORS)
    group_a = [u for u in REFS if u.startswith("A-")]
    group_b = [u for u in REFS if u.startswith("B-")]
    for utt_id in [u for u in group_a if u in mixed][:6]:  # six errors fixed in group A
        del mixed[utt_id]
    for utt_id in group_b[:6]:  # six errors added in group B
        mixed[utt_id] = mixed.get(utt_id, 0) + 1
    import_hyps(db, tmp_path, "mixed", with_errors(mixed))
    assert wer(db, "mixed") == pytest.approx(wer(db, "baseline"))  # the corpus did not move
    without = gate(db, "mixed")
    assert without.exit_code == 0, without.output
    junit = tmp_path / "groups.xml"
    with_groups = gate(db, "mixed", "--groups", "0", "--junit", str(junit))
    assert with_groups.exit_code == 1, with_groups.output
    assert "| **FAIL** B | 20 |" in with_groups.output
    assert "| pass A | 20 |" in with_groups.output
    failed = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")
              if c.find("failure") is not None]
    assert failed == ["WER of B"]


def test_errors_exit_with_status_2(db):
    result = gate(db, "nope")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("Error: no run named 'nope'")


def test_runs_on_different_data_are_refused_unless_allowed(db, tmp_path):
    engine = connect(db)
    with engine.begin() as conn:  # a label is fixed after the baseline was scored
        query(conn, "update utterances set transcript = 'a fixed label' "
                    "where utt_id = 'A-0003'")
    engine.dispose()
    import_hyps(db, tmp_path, "relabelled", with_errors(BASELINE_ERRORS))
    prints = rows(db, "select run_id, data_fingerprint from runs order by run_id")
    assert len({r["data_fingerprint"] for r in prints}) == 2
    assert all(re.fullmatch("[0-9a-f]{64}", r["data_fingerprint"]) for r in prints)

    refused = CliRunner().invoke(cli, ["compare", "baseline", "relabelled", "--db", str(db)])
    assert refused.exit_code == 1
    assert "scored on different data" in refused.output
    assert "1 file differs: 1 with a changed reference" in refused.output
    assert gate(db, "relabelled").exit_code == 2

    allowed = CliRunner().invoke(cli, ["compare", "baseline", "relabelled", "--db", str(db),
                                       "--allow-different-data"])
    assert allowed.exit_code == 0, allowed.output
    assert "DIFFERENT DATA" in allowed.output
    assert "39 files scored in both" in allowed.output
    assert gate(db, "relabelled", "--allow-different-data").exit_code == 0


def test_the_fingerprint_ignores_the_order_of_the_files(db, tmp_path):
    hyps = with_errors(BASELINE_ERRORS)
    import_hyps(db, tmp_path, "reversed", dict(reversed(list(hyps.items()))))
    prints = rows(db, "select data_fingerprint from runs where run_id in "
                      "('baseline', 'reversed')")
    assert len(prints) == 2 and prints[0] == prints[1]


def test_a_schema_7_file_gains_the_fingerprint_column_and_compare_computes_it(db, tmp_path):
    import sqlalchemy as sa

    from asrlens.db import SCHEMA_VERSION

    import_hyps(db, tmp_path, "again", with_errors(BASELINE_ERRORS))
    engine = connect(db)
    with engine.begin() as conn:  # make it look like schema 7: no fingerprint column
        conn.execute(sa.text("alter table runs drop column data_fingerprint"))
        conn.execute(sa.text("update schema_version set version = 7"))
    engine.dispose()
    assert SCHEMA_VERSION >= 8  # 9 (issue 21) adds run_comparisons.normalizer
    engine = connect(db)  # migrates
    engine.dispose()
    assert rows(db, "select max(version) as v from schema_version") == [{"v": SCHEMA_VERSION}]
    assert rows(db, "select run_id, data_fingerprint from runs order by run_id") == [
        {"run_id": "again", "data_fingerprint": None},
        {"run_id": "baseline", "data_fingerprint": None}]
    result = CliRunner().invoke(cli, ["compare", "baseline", "again", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "same data: fingerprint" in result.output  # computed from the data as they are
