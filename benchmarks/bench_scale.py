"""Time and peak memory of each asrlens command as the dataset grows (issue 26).

    .venv/bin/python benchmarks/bench_scale.py --files 13100
    .venv/bin/python benchmarks/bench_scale.py --files 131000 --keep /tmp/scale-131k
    .venv/bin/python benchmarks/bench_scale.py --data /tmp/scale-131k --keep /tmp/mine

Builds a synthetic LJSpeech-layout dataset of N one-second WAV files (16 kHz, mono, 16-bit:
a quiet tone, the same bytes in every file, hard-linked so a million files fit on any disk)
and labels.csv with real LJSpeech sentences (metadata.csv cycled; tests/synthetic.py), plus
two recognizers' outputs as .trn files: the reference with words substituted, deleted and
inserted at 12% and 9% (seeded). Then runs each stage as its own process, the way a user
runs it, and prints its wall time and peak resident memory (`/usr/bin/time`'s maximum RSS):
ingest, import-run (each run), analyze (each run), compare, and report (both runs,
--audio none). Figures go in BENCHMARKS.md, "Scale".
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from synthetic import INSERTED_WORDS, normalize, read_labels  # noqa: E402

SAMPLE_RATE_HZ = 16000
FILE_S = 1.0
RUNS = (("run_a", 0.12), ("run_b", 0.09))
"""Imported runs: name, word error rate of the generated output."""
TIME = "/usr/bin/time"
LINKS_PER_FILE = 50_000
"""Files that share one inode (ext4 allows 65,000 links to one file)."""


def make_dataset(root: Path, n_files: int, *, seed: int) -> list[tuple[str, str]]:
    """root/wavs/*.wav and root/labels.csv; returns [(utt_id, normalized reference)]."""
    (root / "wavs").mkdir(parents=True, exist_ok=True)
    t = np.arange(int(SAMPLE_RATE_HZ * FILE_S)) / SAMPLE_RATE_HZ
    tone = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, tone, SAMPLE_RATE_HZ, format="WAV", subtype="PCM_16")
    wav = buffer.getvalue()
    labels = read_labels(n_files)
    with open(root / "labels.csv", "w", encoding="utf-8") as out:
        source = None
        for i, (utt_id, raw, norm) in enumerate(labels):
            out.write(f"{utt_id}|{raw}|{norm}\n")
            target = root / "wavs" / f"{utt_id}.wav"
            if i % LINKS_PER_FILE == 0:  # a fresh file, then hard links to it: 1,000,000
                target.write_bytes(wav)  # one-second files take 30 MB of disk, not 32 GB
                source = target
            else:
                os.link(source, target)
    return [(utt_id, normalize(norm)) for utt_id, _raw, norm in labels]


def make_hypotheses(path: Path, refs: list[tuple[str, str]], *, error_rate: float,
                    seed: int) -> None:
    """A .trn file: each reference with words substituted, deleted or inserted."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as out:
        for utt_id, ref in refs:
            words = []
            for word in ref.split():
                draw = rng.random()
                if draw < error_rate * 0.6:
                    words.append(INSERTED_WORDS[int(rng.integers(len(INSERTED_WORDS)))])
                elif draw < error_rate * 0.85:
                    continue
                else:
                    words.append(word)
                if rng.random() < error_rate * 0.15:
                    words.append(INSERTED_WORDS[int(rng.integers(len(INSERTED_WORDS)))])
            out.write(f"{' '.join(words)} ({utt_id})\n")


def timed(name: str, args: list[str], *, cwd: Path) -> tuple[str, float, float]:
    """(stage, wall s, peak RSS MB) of `asrlens ARGS` as a process of its own."""
    report = cwd / f"time-{re.sub(r'[^a-z0-9]+', '-', name)}.txt"
    command = [TIME, "-f", "%e %M", "-o", str(report), sys.executable, "-m", "asrlens", *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    wall_s, max_kb = report.read_text().split()[-2:]
    return name, float(wall_s), int(max_kb) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=13100, help="one-second files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="build (or reuse) the dataset here and keep it")
    parser.add_argument("--data", type=Path, default=None,
                        help="use the dataset and .trn files already built in this folder "
                             "(by an earlier --keep) and leave it untouched; the database "
                             "goes to --keep or a temporary folder")
    parser.add_argument("--skip", action="append", default=[],
                        help="leave out a stage (ingest, import-run, analyze, compare, report)")
    args = parser.parse_args()
    if not Path(TIME).exists():
        raise SystemExit(f"{TIME} is needed (GNU time: apt-get install time)")

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        work.mkdir(parents=True, exist_ok=True)
        source = args.data or work
        data = source / "data"
        started = time.perf_counter()
        if args.data is not None and not (data / "labels.csv").exists():
            raise SystemExit(f"no dataset in {args.data} (expected {data}/labels.csv)")
        if not (data / "labels.csv").exists():
            refs = make_dataset(data, args.files, seed=args.seed)
            for i, (run_id, rate) in enumerate(RUNS):
                make_hypotheses(work / f"{run_id}.trn", refs, error_rate=rate,
                                seed=args.seed + i)
        build_s = time.perf_counter() - started
        with open(data / "labels.csv", encoding="utf-8") as labels:
            files = sum(1 for _ in labels)
        db = work / "scale.duckdb"
        for leftover in (db, Path(f"{db}.wal")):
            leftover.unlink(missing_ok=True)
        out = ["--db", str(db)]
        stages = []
        if "ingest" not in args.skip:
            stages.append(timed("ingest", ["ingest", str(data), *out], cwd=work))
        for run_id, _rate in RUNS:
            if "import-run" not in args.skip:
                stages.append(timed(f"import-run {run_id}",
                                    ["import-run", str(source / f"{run_id}.trn"), "--run",
                                     run_id, "--format", "trn", *out], cwd=work))
        for run_id, _rate in RUNS:
            if "analyze" not in args.skip:
                stages.append(timed(f"analyze {run_id}", ["analyze", "--run", run_id, *out],
                                    cwd=work))
        if "compare" not in args.skip:
            stages.append(timed("compare", ["compare", RUNS[0][0], RUNS[1][0], *out],
                                cwd=work))
        if "report" not in args.skip:
            stages.append(timed("report (two runs)",
                                ["report", "--run", RUNS[0][0], "--run", RUNS[1][0],
                                 "--audio", "none", "--out", str(work / "report"), *out],
                                cwd=work))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}; "
          f"load average (1 min) {os.getloadavg()[0]:.1f}")
    print(f"data: {files:,} files of {FILE_S:.0f} s, 2 imported runs; "
          f"built in {build_s:.1f} s")
    print(f"{'stage':24s} {'wall s':>8s} {'peak MB':>8s} {'KB/file':>8s}")
    for name, wall_s, peak_mb in stages:
        print(f"{name:24s} {wall_s:8.1f} {peak_mb:8.0f} {peak_mb * 1024 / files:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
