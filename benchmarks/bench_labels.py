"""Peak memory and time of ingesting a large labels file (no audio): label parsing and the
database inserts, which stream in batches.

    .venv/bin/python benchmarks/bench_labels.py                  # 1,000,100 labels
    .venv/bin/python benchmarks/bench_labels.py --labels 200000

Writes a labels.csv of N LJSpeech lines (the shared metadata.csv's 13,100 lines repeated,
each with a unique id) into a temporary folder, ingests it into a fresh database in a child
process, and prints the wall time and the child's peak resident memory (ru_maxrss), then
the same for a re-ingest of the unchanged file. Record the figures and the machine in
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py

REPO = Path(__file__).resolve().parent.parent
METADATA = REPO.parent / "shared" / "data" / "ljspeech-metadata" / "metadata.csv"


def write_labels(path: Path, n: int) -> None:
    lines = METADATA.read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            _id, rest = lines[i % len(lines)].split("|", 1)
            out.write(f"L{i:07d}|{rest}\n")


def ingest_once(folder: Path, db: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of a child `asrlens ingest`, and its last line."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "asrlens", "ingest", str(folder), "--db",
                             str(db), "--no-progress"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(out)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out.strip().splitlines()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1_000_100)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {cpu_model()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "big"
        folder.mkdir()
        write_labels(folder / "labels.csv", args.labels)
        size = (folder / "labels.csv").stat().st_size / 2**20
        print(f"labels.csv: {args.labels:,} lines, {size:.0f} MiB")
        db = Path(tmp) / "big.duckdb"
        for what in ("ingest", "re-ingest"):
            wall, peak, line = ingest_once(folder, db)
            print(f"{what:10} {wall:7.1f} s   peak RSS {peak:7.0f} MiB   ({line.strip()})")


if __name__ == "__main__":
    main()
