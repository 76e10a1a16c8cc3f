"""How long `asrlens report` takes on a run of 13,100 utterances (the size of LJSpeech).

    .venv/bin/python benchmarks/bench_report.py               # 13,100 utterances, 2 runs
    .venv/bin/python benchmarks/bench_report.py --utts 2000 --runs 1

Generates the database with tests/synthetic.py (real LJSpeech transcripts, generated
recognizer output; no audio, so the report runs with --audio none), runs `asrlens analyze`
on each run (so the "why it fails" section has its tables; timed apart, it is not rendering),
then renders the report the way `asrlens report` does and prints the seconds spent in each
section, in rendering the page, and in all; last, runs `asrlens report` as a new process (as a
user does: imports included) and prints its wall and CPU seconds (issue 26: under 5 s for a
small report, `--utts 1310`). Target (issue 4): under 30 s on 2 cores. With two
runs the comparison section is included. Figures go in BENCHMARKS.md, "Report rendering".
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from synthetic import make_synthetic_db  # noqa: E402

from asrlens.db import connect  # noqa: E402
from asrlens.report import render  # noqa: E402
from asrlens.report.sections import SECTIONS  # noqa: E402

TARGET_S = 30.0
"""Seconds the whole render may take for 13,100 utterances (issue 4)."""



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utts", type=int, default=13100, help="labelled utterances")
    parser.add_argument("--runs", type=int, default=2, help="runs to generate and report")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep the report here")
    parser.add_argument("--cli-repeat", type=int, default=1,
                        help="times to run `asrlens report` as a new process (start-up cost)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="skip asrlens analyze (the 'why' section is then left out)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        db = make_synthetic_db(tmp / "bench.duckdb", n_utts=args.utts, n_runs=args.runs,
                               seed=args.seed, missing_audio_share=0.0)
        generate_s = time.perf_counter() - started
        run_ids = [f"run{i}" for i in range(args.runs)]
        analyze_s = 0.0
        if not args.no_analyze:
            from asrlens.analysis import analyze

            engine = connect(db)
            try:
                started = time.perf_counter()
                for run_id in run_ids:
                    analyze(engine, run_id=run_id)
                analyze_s = time.perf_counter() - started
            finally:
                engine.dispose()
        out = args.out or tmp / "report"

        engine = connect(db, read_only=True)
        try:
            started = time.perf_counter()
            ctx = render.resolve_context(
                engine, run_ids=run_ids, dataset=None, out_dir=out, audio="none",
                top_n=render.DEFAULT_TOP_N, seed=0)
            timings, sections = [], []
            for module in SECTIONS:
                t0 = time.perf_counter()
                sections += render.build_sections(engine, ctx, [module])
                timings.append((module.__name__.rsplit(".", 1)[-1], time.perf_counter() - t0))
            t0 = time.perf_counter()
            html = render.render_page(ctx, sections)
            out.mkdir(parents=True, exist_ok=True)
            (out / render.INDEX_NAME).write_text(html, encoding="utf-8")
            timings.append(("page (Jinja + write)", time.perf_counter() - t0))
            total_s = time.perf_counter() - started

            # the same through the public entry point, as `asrlens report` calls it
            t0 = time.perf_counter()
            render.render_report(engine, run_ids=run_ids, out_dir=out, audio="none")
            public_s = time.perf_counter() - t0
        finally:
            engine.dispose()
        cli_runs = [cli_report(db, run_ids, out) for _ in range(args.cli_repeat)]

    files = args.utts
    print(f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
          f"{cpu_model()}, Python {platform.python_version()}")
    print(f"data: {files:,} utterances, {args.runs} run(s); generated in {generate_s:.1f} s, "
          + (f"analyzed in {analyze_s:.1f} s" if not args.no_analyze else "not analyzed"))
    for name, seconds in timings:
        print(f"  {name:24s} {seconds:6.2f} s")
    print(f"render total: {total_s:.2f} s; render_report(): {public_s:.2f} s; "
          f"page {len(html.encode()) / 1e6:.2f} MB; target < {TARGET_S:.0f} s: "
          f"{'met' if max(total_s, public_s) < TARGET_S else 'MISSED'}")
    for wall_s, cpu_s in cli_runs:
        print(f"`asrlens report` as a new process (start-up included): {wall_s:.2f} s wall, "
              f"{cpu_s:.2f} s CPU (user + sys; wall exceeds it when the machine is shared)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    return 0 if max(total_s, public_s) < TARGET_S else 1


def cli_report(db: Path, run_ids: list[str], out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of `asrlens report` run as a user runs it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "asrlens", "report", "--db", str(db), "--out", str(out),
               "--audio", "none"] + [arg for run_id in run_ids for arg in ("--run", run_id)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


if __name__ == "__main__":
    raise SystemExit(main())
