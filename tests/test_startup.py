"""The commands that need no model never import torch: `asrlens --help`, `sql`, `doctor` and
`export` start in a fresh interpreter, and what it imported is read from sys.modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asrlens import db

HEAVY = ("torch", "torchaudio", "pocketsphinx", "matplotlib", "ray")
"""Modules a command without a model has no use for (torch alone takes seconds to import)."""
PROBE = """
import sys
from asrlens.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="asrlens")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = [m for m in {heavy!r} if m in sys.modules]
print("\\nIMPORTED=" + ",".join(heavy) + " EXIT=" + str(code), file=sys.stderr)
"""


def imported_heavy(*args: str) -> tuple[list[str], str, str]:
    """(heavy modules imported, exit code, output) of `asrlens ARGS` in a new interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                          capture_output=True, text=True, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("IMPORTED="), done.stderr
    names, code = last.removeprefix("IMPORTED=").split(" EXIT=")
    return [n for n in names.split(",") if n], code, done.stdout + done.stderr


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    """A database with one tiny run (one file, scored), written without any engine."""
    from datetime import UTC, datetime

    from asrlens.scoring.score import score_texts

    path = tmp_path_factory.mktemp("startup") / "small.duckdb"
    engine = db.connect(path)
    now = datetime.now(UTC).replace(tzinfo=None)
    score = score_texts("the cat sat", "the cat sat down")
    with engine.begin() as conn:
        db.insert_rows(conn, "datasets", [{"name": "d", "source": str(path.parent),
                                           "root": str(path.parent), "ingested_at": now}])
        db.insert_rows(conn, "runs", [{
            "run_id": "r", "dataset": "d", "engine": "e", "model": "m", "normalizer": "n",
            "reference_column": "transcript", "device": "cpu", "precision": "fp32",
            "status": "finished", "started_at": now, "finished_at": now, "files_total": 1}])
        db.insert_rows(conn, "transcripts", [{
            "run_id": "r", "utt_id": "u1", "created_at": now, "ref_raw": "The cat sat.",
            "hyp_raw": "the cat sat down", "ref_norm": "THE CAT SAT",
            "hyp_norm": "THE CAT SAT DOWN"}])
        db.insert_rows(conn, "utterance_errors", [{"run_id": "r", "utt_id": "u1",
                                                    **score.counts()}])
    db.close(engine)
    return path


def test_the_probe_sees_an_import():
    """The check can fail: a command that loads torch shows it."""
    done = subprocess.run([sys.executable, "-c", "import sys, torch; print('torch' in "
                           "sys.modules)"], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True"


def test_help_imports_no_torch():
    heavy, code, output = imported_heavy("--help")
    assert code == "0" and "Usage: asrlens" in output
    assert heavy == []


@pytest.mark.parametrize("args", [
    ["sql", "select run_id, wer from run_summary", "--format", "jsonl"],
    ["doctor"],
    ["export", "--run", "r", "--format", "jsonl"],
], ids=lambda a: a[0])
def test_commands_without_a_model_import_no_torch(small_db, args):
    heavy, code, output = imported_heavy(*args, "--db", str(small_db))
    assert code in ("0", "None"), output
    if args[0] != "doctor":
        assert '"wer"' in output  # the run's row really was read
    assert heavy == []
