"""The inference loop's own cost and what overlapping reading with recognition buys.

Builds a temporary database whose dataset is the LJSpeech sample's 32 clips repeated --copies
times (distinct utterance ids, the same files), then runs `asrlens.infer.infer` on it:
  1. with a null recognizer (answers one word at once): what the loop itself costs per file:
     reading + resampling 22.05 -> 16 kHz, normalizing, scoring with jiwer, batched commits;
  2. with pocketsphinx, files read in a background thread (prefetch 4, the default) and in
     the calling thread (prefetch 0): wall seconds, files per second and real-time factor.
Prints markdown rows for BENCHMARKS.md ("Inference"); with --repeats the cases are run in
turn that many times, so a load change on a shared machine shows instead of biasing one case.

    .venv/bin/python benchmarks/bench_infer.py --copies 1 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from asrlens.db import connect, insert_rows, query
from asrlens.infer import infer
from asrlens.infer.recognizers.base import Hypothesis, Recognizer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"


class NullRecognizer(Recognizer):
    """Answers 'THE' for every file without looking at it: the loop's cost alone."""

    name = "null"
    model = "null"
    sample_rate = 16000

    def transcribe(self, samples: np.ndarray) -> Hypothesis:
        return Hypothesis(text="THE")


def build_db(db: Path, data: Path, copies: int) -> int:
    """The sample's labelled clips, `copies` times each; returns the number of files."""
    labels = read_labels(data)
    wavs = sorted((data / "wavs").glob("*.wav"))
    rows = [
        {"dataset": "bench", "utt_id": f"{wav.stem}-{copy:03d}",
         "transcript": labels[wav.stem][0], "normalized_transcript": labels[wav.stem][1],
         "audio_path": f"wavs/{wav.name}", "labels_line": None}
        for copy in range(copies) for wav in wavs
    ]
    store_dataset(db, data, rows, n_audio=len(wavs))
    return len(rows)


def read_labels(data: Path) -> dict[str, tuple[str, str]]:
    """utt_id -> (transcript, normalized transcript), from the sample's labels.csv."""
    labels = {}
    for line in (data / "labels.csv").read_text(encoding="utf-8").splitlines():
        utt_id, transcript, normalized = line.split("|")
        labels[utt_id] = (transcript, normalized)
    return labels


def store_dataset(db: Path, data: Path, rows: list[dict], *, n_audio: int) -> None:
    """Dataset 'bench' (audio under data) with these utterance rows, in database file db."""
    engine = connect(db)
    with engine.begin() as conn:
        insert_rows(conn, "datasets", [{
            "name": "bench", "source": str(data), "root": str(data), "labels_path": "labels.csv",
            "labels_format": "ljspeech", "n_labels": len(rows), "n_audio": n_audio,
            "ingested_at": datetime.now()}])
        insert_rows(conn, "utterances", rows)
    engine.dispose()


def timed_run(db: Path, *, run_id: str, **kwargs) -> dict:
    engine = connect(db)
    t0 = time.perf_counter()
    result = infer(engine, run_id=run_id, progress=False, **kwargs)
    wall = time.perf_counter() - t0
    compute = query(engine, "select sum(compute_s) as s from transcripts where run_id = :r",
                    r=run_id)[0]["s"]
    engine.dispose()
    return {"files": result.files_done, "audio_s": result.audio_s, "wall_s": wall,
            "compute_s": compute, "wer": result.wer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--skip-sphinx", action="store_true")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run every case this many times, interleaved (machine noise)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        n = build_db(db, args.data, args.copies)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}; {n} files")
        print("| run | files | audio s | wall s | files/s | real-time factor | ms per file |")
        print("|---|---|---|---|---|---|---|")
        cases = [("null recognizer, prefetch 4", {"recognizer": NullRecognizer()}),
                 ("null recognizer, prefetch 0", {"recognizer": NullRecognizer(),
                                                  "prefetch_files": 0})]
        if not args.skip_sphinx:
            cases += [("pocketsphinx, prefetch 4", {"engine_name": "pocketsphinx"}),
                      ("pocketsphinx, prefetch 0", {"engine_name": "pocketsphinx",
                                                    "prefetch_files": 0})]
        interleaved = [case for _ in range(args.repeats) for case in cases]
        for i, (label, kwargs) in enumerate(interleaved):
            r = timed_run(db, run_id=f"run{i}", **kwargs)
            print(f"| {label} | {r['files']} | {r['audio_s']:.0f} | {r['wall_s']:.1f} | "
                  f"{r['files'] / r['wall_s']:.1f} | {r['wall_s'] / r['audio_s']:.3f} | "
                  f"{1000 * r['wall_s'] / r['files']:.0f} |")


if __name__ == "__main__":
    main()
