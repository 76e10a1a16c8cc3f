"""Export: sclite trn files, CSV and JSON lines of a run's per-file results."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_infer import SCRIPT, ScriptedRecognizer, make_toy_db, rows, run

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.errors import AsrlensError
from asrlens.infer.export import export_run, trn_line

TRN_LINE = re.compile(r"^(?P<text>.*) \((?P<utt_id>[^()]+)\)$")


@pytest.fixture
def scored_db(tmp_path):
    """The toy dataset with run 'r' finished, U003 failed (corrupt audio)."""
    toy_db = make_toy_db(tmp_path)
    root = Path(rows(toy_db, "select root from datasets")[0]["root"])
    (root / "wavs" / "U003.wav").write_bytes(b"not audio")
    run(toy_db, ScriptedRecognizer(), run_id="r")
    return toy_db


def export(db: Path, **kwargs):
    engine = connect(db, read_only=True)
    try:
        return export_run(engine, **kwargs)
    finally:
        engine.dispose()


def read_trn(path: Path) -> dict[str, str]:
    parsed = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = TRN_LINE.match(line)
        assert match, f"not a trn line: {line!r}"
        parsed[match["utt_id"]] = match["text"]
    return parsed


def test_trn_holds_the_normalized_texts_of_both_sides_for_every_file(scored_db, tmp_path):
    result = export(scored_db, run_id="r", fmt="trn", out=tmp_path / "trn")
    assert [p.name for p in result.paths] == ["ref.trn", "hyp.trn"]
    ref, hyp = read_trn(tmp_path / "trn" / "ref.trn"), read_trn(tmp_path / "trn" / "hyp.trn")
    stored = {r["utt_id"]: r for r in rows(scored_db, "select * from transcripts")}
    assert list(ref) == sorted(stored) == list(hyp) and result.rows == len(SCRIPT)
    for utt_id, transcript in stored.items():
        assert ref[utt_id] == transcript["ref_norm"]
        assert hyp[utt_id] == (transcript["hyp_norm"] or "")
    assert hyp["U005"] == ""  # the empty hypothesis is an empty text, not a missing line
    # the failed U003 is there with an empty hypothesis: sclite counts its words as deletions
    assert stored["U003"]["error"] and hyp["U003"] == "" and ref["U003"]


def test_trn_line_keeps_parentheses_for_the_id():
    assert trn_line("A (B) C", "U1") == "A [B] C (U1)\n"
    assert trn_line("", "U1") == " (U1)\n"


def test_csv_has_one_row_per_file_with_counts_and_errors(scored_db, tmp_path):
    out = tmp_path / "r.csv"
    result = export(scored_db, run_id="r", fmt="csv", out=out)
    assert result.rows == len(SCRIPT)
    with out.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["utt_id"] for r in table] == [u for u, _, _ in SCRIPT]
    by_id = {r["utt_id"]: r for r in table}
    stored = {r["utt_id"]: r for r in rows(scored_db, "select * from utterance_errors")}
    for utt_id, errors in stored.items():
        for column in ("ref_words", "hits", "substitutions", "deletions", "insertions",
                       "char_insertions"):
            assert int(by_id[utt_id][column]) == errors[column], (utt_id, column)
        assert float(by_id[utt_id]["wer"]) == pytest.approx(errors["wer"])
    assert by_id["U003"]["error"] and by_id["U003"]["hits"] == ""


def test_jsonl_has_one_object_per_file(scored_db):
    stream = io.StringIO()
    export(scored_db, run_id="r", fmt="jsonl", stream=stream)
    objects = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [o["utt_id"] for o in objects] == [u for u, _, _ in SCRIPT]
    u004 = next(o for o in objects if o["utt_id"] == "U004")
    assert (u004["substitutions"], u004["insertions"], u004["ref_norm"]) == (
        1, 1, "GUTENBERG AND SCHOEFFER")
    assert next(o for o in objects if o["utt_id"] == "U003")["wer"] is None


def test_unknown_run_names_the_known_ones(scored_db):
    with pytest.raises(AsrlensError, match="no run named 'nope' in the database; runs: r"):
        export(scored_db, run_id="nope", fmt="csv", stream=io.StringIO())


def test_cli_export_csv_to_stdout_and_trn_to_a_folder(scored_db, tmp_path):
    result = CliRunner().invoke(cli, ["export", "--db", str(scored_db), "--run", "r",
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("run_id,utt_id,")
    assert len(result.output.splitlines()) == 1 + len(SCRIPT)
    folder = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", "--db", str(scored_db), "--run", "r",
                                      "--format", "trn", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "ref.trn").exists() and (folder / "hyp.trn").exists()


def test_cli_export_unknown_run_is_an_error_line(scored_db):
    result = CliRunner().invoke(cli, ["export", "--db", str(scored_db), "--run", "nope"])
    assert result.exit_code == 1
    assert "Error: no run named 'nope'" in result.output


# --- cross-check with NIST sclite ----------------------------------------------------------

SCLITE_SUM = re.compile(
    r"\|\s*Sum\s*\|\s*(?P<snt>\d+)\s+(?P<wrd>\d+)\s*\|\s*(?P<corr>\d+)\s+(?P<sub>\d+)\s+"
    r"(?P<del>\d+)\s+(?P<ins>\d+)\s+(?P<err>\d+)"
)


def sclite_totals(folder: Path) -> dict[str, int]:
    """sclite's raw summary (counts) over ref.trn / hyp.trn."""
    if shutil.which("sctk") is None:
        pytest.skip("sctk (NIST sclite) is not installed: apt-get install -y sctk")
    completed = subprocess.run(
        ["sctk", "sclite", "-r", str(folder / "ref.trn"), "trn", "-h", str(folder / "hyp.trn"),
         "trn", "-i", "rm", "-o", "rsum", "stdout"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    match = SCLITE_SUM.search(completed.stdout)
    assert match, completed.stdout
    return {k: int(v) for k, v in match.groupdict().items()}


@pytest.mark.slow
def test_sclite_agrees_with_the_stored_counts_of_a_real_run(sphinx_db, tmp_path):
    export(sphinx_db, run_id="sphinx", fmt="trn", out=tmp_path)
    sclite = sclite_totals(tmp_path)
    ours = rows(sphinx_db, "select * from run_summary where run_id = 'sphinx'")[0]
    assert sclite["snt"] == ours["files_scored"] + ours["files_failed"]
    assert sclite["wrd"] == ours["strict_ref_words"]
    # hits + substitutions + deletions = reference words, whatever the alignment
    assert sclite["corr"] + sclite["sub"] + sclite["del"] == (
        ours["hits"] + ours["substitutions"] + ours["deletions"])
    # sclite weighs substitutions 4, insertions and deletions 3: its alignment is a minimum
    # of that weighted cost, not of plain edit distance, so it may count a few more errors
    ours_errors = ours["substitutions"] + ours["deletions"] + ours["insertions"]
    assert ours_errors <= sclite["err"] <= ours_errors * 1.02 + 2


def test_sclite_counts_the_same_words_as_the_strict_wer_on_the_toy_run(scored_db, tmp_path):
    export(scored_db, run_id="r", fmt="trn", out=tmp_path)
    sclite = sclite_totals(tmp_path)
    ours = rows(scored_db, "select * from run_summary where run_id = 'r'")[0]
    assert ours["files_failed"] == 1  # U003, exported with an empty hypothesis
    assert (sclite["snt"], sclite["wrd"]) == (len(SCRIPT), ours["strict_ref_words"])
    assert ours["strict_ref_words"] > ours["ref_words"]
    assert sclite["err"] / sclite["wrd"] == pytest.approx(ours["strict_wer"])
