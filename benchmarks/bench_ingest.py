"""Ingest throughput on a generated LJSpeech-like dataset, files in the page cache.

    .venv/bin/python benchmarks/bench_ingest.py                 # 2,000 files, all cores
    .venv/bin/python benchmarks/bench_ingest.py --files 5000 --workers 1

Builds N PCM16 22,050 Hz mono files named and labelled from the shared metadata.csv, each as
long as its transcript takes to read at LJSpeech's pace (1-10 s, mean about 6.5 s as in
LJSpeech), cut from the shared sample recordings with a random gain so levels vary; reads them
all once to warm the page cache, then times:
  baseline  a plain single-process soundfile + numpy loop (decode + peak), for reference
  ingest    asrlens.ingest.ingest into a fresh database: hashing, statistics, DB writes
  re-ingest the same dataset again (unchanged files are skipped)
and prints files per second, with the CPU time per file and how many cores the run really
got (on a shared machine, fewer than it asked for). Record the figures and the machine in
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from machine import cpu_model  # benchmarks/machine.py

REPO = Path(__file__).resolve().parent.parent
SAMPLE_WAVS = REPO.parent / "shared" / "data" / "ljspeech-sample" / "wavs"
METADATA = REPO.parent / "shared" / "data" / "ljspeech-metadata" / "metadata.csv"
RATE = 22_050  # Hz, as LJSpeech
MIN_S, MAX_S = 1.0, 10.1  # clip durations, seconds (LJSpeech: 1.1 to 10.1 s)
CHARS_PER_S = 15.5  # LJSpeech's speaking rate, normalized-transcript characters per second
SEED = 0


def generate(folder: Path, n_files: int) -> float:
    """Write n_files wavs + labels.csv into folder; returns the audio duration in seconds.

    Each file lasts as long as its transcript takes to say at LJSpeech's pace (CHARS_PER_S),
    within MIN_S..MAX_S, and is cut from the sample recordings laid end to end, with a gain.
    """
    rng = np.random.default_rng(SEED)
    speech = np.concatenate([sf.read(p, dtype="int16")[0]
                             for p in sorted(SAMPLE_WAVS.glob("*.wav"))])
    lines = METADATA.read_text(encoding="utf-8").splitlines()[:n_files]
    if len(lines) < n_files:
        raise SystemExit(f"metadata.csv has only {len(lines)} lines; ask for fewer files")
    (folder / "wavs").mkdir(parents=True)
    total = 0
    for line in lines:
        utt_id, text = line.split("|")[0], line.split("|")[-1]
        length = int(np.clip(len(text) / CHARS_PER_S, MIN_S, MAX_S) * RATE)
        start = int(rng.integers(0, len(speech) - length))
        gain = rng.uniform(0.2, 1.2)
        clip = np.clip(speech[start:start + length] * gain, -32768, 32767).astype(np.int16)
        sf.write(folder / "wavs" / f"{utt_id}.wav", clip, RATE, subtype="PCM_16")
        total += length
    (folder / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return total / RATE


def warm(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.read_bytes()


def baseline(folder: Path) -> float:
    """Seconds for a plain single-process soundfile + numpy pass (decode, peak)."""
    started = time.perf_counter()
    for path in sorted((folder / "wavs").glob("*.wav")):
        samples, _ = sf.read(path, dtype="float32")
        np.abs(samples).max()
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="files to generate (>= 2000)")
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument("--repeat", type=int, default=3, help="timed ingests (best is shown)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="work folder (default: a temporary one, removed at the end)")
    args = parser.parse_args()

    from asrlens.db import connect
    from asrlens.ingest import ingest

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        dataset = work / "ljspeech-like"
        if not dataset.exists():
            seconds = generate(dataset, args.files)
        else:
            seconds = sum(sf.info(p).duration for p in (dataset / "wavs").glob("*.wav"))
        n = len(list((dataset / "wavs").glob("*.wav")))
        size = sum(p.stat().st_size for p in (dataset / "wavs").glob("*.wav"))
        warm(dataset)
        print(f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.platform()}")
        print(f"dataset: {n} files, {seconds / 3600:.2f} h of audio, {size / 1e6:.0f} MB, "
              f"mean {seconds / n:.1f} s/file")
        base = baseline(dataset)
        print(f"baseline  single-process soundfile+numpy loop: {n / base:7.0f} files/s")
        best = cpu_per_file = None
        for attempt in range(args.repeat):
            db_path = work / f"bench-{attempt}.duckdb"
            for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
                stale.unlink(missing_ok=True)
            engine = connect(db_path)
            try:
                cpu_before = cpu_seconds()
                started = time.perf_counter()
                summary = ingest(engine, dataset, workers=args.workers, progress=False)
                elapsed = time.perf_counter() - started
                cpu = cpu_seconds() - cpu_before
                started = time.perf_counter()
                again = ingest(engine, dataset, workers=args.workers, progress=False)
                again_s = time.perf_counter() - started
            finally:
                engine.dispose()
            assert summary.with_audio == n and summary.files_read == n, summary
            assert again.files_read == 0 and not again.changed, again
            print(f"ingest    run {attempt + 1}: {n / elapsed:7.0f} files/s ({elapsed:.2f} s, "
                  f"{seconds / elapsed:.0f}x real time); re-ingest unchanged: "
                  f"{n / again_s:7.0f} files/s ({again_s:.2f} s); CPU {cpu / n * 1e3:.2f} ms/file, "
                  f"cores used {cpu / elapsed:.2f}")
            best = elapsed if best is None else min(best, elapsed)
            cpu_per_file = cpu / n if cpu_per_file is None else min(cpu_per_file, cpu / n)
        workers = args.workers or os.cpu_count()
        print(f"best ingest: {n / best:.0f} files/s with statistics, workers={workers}")
        print(f"CPU per file (all processes): {cpu_per_file * 1e3:.2f} ms, so about "
              f"{workers / cpu_per_file:.0f} files/s when {workers} core(s) are free "
              "(a projection; the line above is what was measured)")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
