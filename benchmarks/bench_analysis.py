"""How long `asrlens analyze` takes on a run of 13,100 utterances (the size of LJSpeech).

    .venv/bin/python benchmarks/bench_analysis.py               # 13,100 utterances
    .venv/bin/python benchmarks/bench_analysis.py --utts 2000

Generates the database with tests/synthetic.py (real LJSpeech transcripts, generated
recognizer output), then runs `analyze` twice (the second run replaces the first's rows)
and prints the seconds each took, with the row counts written. Figures go in BENCHMARKS.md,
"Error analysis".
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from synthetic import make_synthetic_db  # noqa: E402

from asrlens.analysis import analyze  # noqa: E402
from asrlens.db import connect, query  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utts", type=int, default=13100, help="labels in the dataset")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = make_synthetic_db(Path(tmp) / "bench.duckdb", n_utts=args.utts, n_runs=1, seed=0)
        print(f"synthetic database: {args.utts} labels in {time.perf_counter() - t0:.1f} s")
        engine = connect(path)
        try:
            for attempt in ("first", "again (replaces)"):
                t0 = time.perf_counter()
                result = analyze(engine, run_id="run0")
                print(f"analyze {attempt}: {time.perf_counter() - t0:.2f} s")
            counts = {table: query(engine, f"select count(*) as n from {table}")[0]["n"]
                      for table in ("alignment_ops", "op_tags", "reference_words",
                                    "utterance_features", "feature_effects")}
        finally:
            engine.dispose()
    print(f"files scored: {result.files_scored}, errors: {result.errors}")
    print("rows: " + ", ".join(f"{table} {n}" for table, n in counts.items()))


if __name__ == "__main__":
    main()
