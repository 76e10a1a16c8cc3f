"""Ingest throughput on a generated LJSpeech-like dataset, files in the page cache.

    .venv/bin/python benchmarks/bench_ingest.py                 # 2,000 files, all cores
    .venv/bin/python benchmarks/bench_ingest.py --files 5000 --workers 1
    .venv/bin/python benchmarks/bench_ingest.py --layout kaldi      # or librispeech, nemo, ...
    .venv/bin/python benchmarks/bench_ingest.py --layout commonvoice --mp3

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


def relayout(base: Path, layout: str, out: Path, *, mp3: bool = False) -> Path:
    """The generated LJSpeech-like dataset `base` as `layout` under `out` (audio hard-linked
    where the layout keeps WAV; LibriSpeech re-encoded to FLAC, parquet embeds the WAV bytes,
    Common Voice with --mp3 re-encoded to MP3). Speaker: the id's prefix (LJ001)."""
    if layout == "ljspeech":
        return base
    out.mkdir(parents=True)
    rows = [(line.split("|")[0], line.split("|")[-1]) for line in
            (base / "labels.csv").read_text(encoding="utf-8").splitlines()]

    def place(utt: str, dest: Path, fmt: str | None = None) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = base / "wavs" / f"{utt}.wav"
        if fmt is None:
            os.link(src, dest)
        else:
            data, rate = sf.read(src, dtype="int16")
            sf.write(dest, data, rate, format=fmt, subtype=None if fmt == "MP3" else "PCM_16")

    if layout == "csv":
        for utt, _ in rows:
            place(utt, out / "audio" / f"{utt}.wav")
        import csv

        with open(out / "test.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["path", "text", "speaker"])
            writer.writerows([f"audio/{u}.wav", t, u.split("-")[0]] for u, t in rows)
    elif layout == "nemo":
        import json

        for utt, _ in rows:
            place(utt, out / "audio" / f"{utt}.wav")
        (out / "manifest.json").write_text("".join(json.dumps(
            {"audio_filepath": f"audio/{u}.wav", "text": t, "duration": 0.0,
             "speaker": u.split("-")[0]}) + "\n" for u, t in rows), encoding="utf-8")
    elif layout == "kaldi":
        for utt, _ in rows:
            place(utt, out / "wav" / f"{utt}.wav")
        (out / "wav.scp").write_text("".join(f"{u} wav/{u}.wav\n" for u, _ in rows))
        (out / "text").write_text("".join(f"{u} {t}\n" for u, t in rows), encoding="utf-8")
        (out / "utt2spk").write_text("".join(f"{u} {u.split('-')[0]}\n" for u, _ in rows))
    elif layout == "commonvoice":
        suffix = ".mp3" if mp3 else ".wav"
        for utt, _ in rows:
            place(utt, out / "clips" / f"{utt}{suffix}", "MP3" if mp3 else None)
        (out / "test.tsv").write_text("client_id\tpath\tsentence\tage\n" + "".join(
            f"{u.split('-')[0]}\t{u}{suffix}\t{t}\tthirties\n" for u, t in rows),
            encoding="utf-8")
    elif layout == "librispeech":
        for utt, text in rows:
            speaker = utt.split("-")[0]
            folder = out / speaker / "1"
            place(utt, folder / f"{utt}.flac", "FLAC")
            with open(folder / f"{speaker}-1.trans.txt", "a", encoding="utf-8") as f:
                f.write(f"{utt} {text}\n")
    elif layout == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([
            {"id": u, "audio": {"bytes": (base / "wavs" / f"{u}.wav").read_bytes(),
                                "path": f"{u}.wav"}, "text": t, "speaker_id": u.split("-")[0]}
            for u, t in rows])
        pq.write_table(table, out / "test.parquet", row_group_size=256)
    else:
        raise SystemExit(f"unknown layout {layout}")
    return out


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
    parser.add_argument("--layout", default="ljspeech",
                        choices=["ljspeech", "librispeech", "commonvoice", "nemo", "kaldi",
                                 "parquet", "csv"],
                        help="lay the generated files out like this (asrlens ingest --layout)")
    parser.add_argument("--mp3", action="store_true",
                        help="commonvoice: MP3 clips (decoding them dominates: its own rate)")
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
        target = work / f"{args.layout}{'-mp3' if args.mp3 else ''}"
        if args.layout != "ljspeech" and not target.exists():
            relayout(dataset, args.layout, target, mp3=args.mp3)
        dataset = target if args.layout != "ljspeech" else dataset
        warm(dataset)
        print(f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.platform()}")
        print(f"dataset: {n} files, {seconds / 3600:.2f} h of audio, {size / 1e6:.0f} MB as WAV, "
              f"mean {seconds / n:.1f} s/file; layout {args.layout}"
              f"{' (MP3 clips)' if args.mp3 else ''}")
        base = baseline(work / "ljspeech-like")
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
            assert summary.layout == args.layout, summary.layout
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
