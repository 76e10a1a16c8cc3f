"""`asrlens infer --ray`: what a local Ray cluster costs, and how many GPUs one driver can feed.

1. Overhead: the sample's 32 clips with pocketsphinx and with wav2vec2 BASE (placeholder
   weights, CPU), once in one process (`infer`) and once on a local Ray cluster (`infer` with
   a RayExecutor; the cluster started first, its start timed apart). Wall seconds and x real
   time (audio seconds per wall second) of each.
2. The driver's write rate: synthetic files of 20 reference words (a hypothesis with ~3
   errors, 20 timed words), scored by the loop's own `Loop._process`, pickled as the workers
   send them, and stored by the driver's real path (unpickle + `Loop.commit`: one transaction
   per commit, deletes of earlier rows, one bulk insert per table) at several commit sizes;
   and each table's bulk insert (`asrlens.db.insert_rows`) alone, in rows per second.
3. GPUs per driver: files per second the driver stores / files per second one GPU makes at
   issue 9's target (--gpu-x-rt, default 6,000 x real time, BASE) on files of --file-s
   (default 7 s, about 20 words).

    .venv/bin/python benchmarks/bench_ray.py                    # all (about 10 min on 2 cores)
    .venv/bin/python benchmarks/bench_ray.py --skip-overhead --files 5000
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path

from bench_infer import read_labels, store_dataset
from machine import cpu_model

from asrlens.db import connect, insert_rows, query
from asrlens.infer import infer
from asrlens.infer.loop import RESULT_TABLES, Loop
from asrlens.infer.readahead import _Loaded, _Utterance
from asrlens.infer.recognizers.base import Recognizer
from asrlens.infer.runs import create_run
from asrlens.scoring.normalize import LJSPEECH

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"
PLACEHOLDER = "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
SAMPLE_RATE = 16000
WORDS = ("the printing press of gutenberg was a marvel of its age and many books were made "
         "with care by hand in the old shops of europe before the new types came").split()


class NullRecognizer(Recognizer):
    name = "null"
    model = "null"


class Length:
    """Stands for a file's samples where only their number matters (audio_s)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n


def build_dataset(db: Path, data: Path, n: int, *, synthetic: bool = False) -> None:
    """Dataset 'bench': the sample's clips (or n synthetic labels) in a fresh database."""
    if synthetic:
        rows = [{"dataset": "bench", "utt_id": f"U{i:07d}", "transcript": "x",
                 "normalized_transcript": None, "audio_path": None, "labels_line": i}
                for i in range(n)]
    else:
        labels = read_labels(data)
        wavs = sorted((data / "wavs").glob("*.wav"))[:n]
        rows = [{"dataset": "bench", "utt_id": w.stem, "transcript": labels[w.stem][0],
                 "normalized_transcript": labels[w.stem][1], "audio_path": f"wavs/{w.name}",
                 "labels_line": i} for i, w in enumerate(wavs)]
    store_dataset(db, data, rows, n_audio=len(rows))


# --- 1. overhead ----------------------------------------------------------------------------


def overhead(data: Path, files: int, tmp: Path, engines: list[str]) -> list[str]:
    import ray
    import torch
    import torchaudio

    from asrlens.infer.ray_run import RayExecutor

    checkpoint = tmp / PLACEHOLDER
    torch.manual_seed(0)
    torch.save(torchaudio.models.wav2vec2_base(aux_num_out=32).state_dict(), checkpoint)
    settings = {"pocketsphinx": {"engine_name": "pocketsphinx"},
                "wav2vec2": {"engine_name": "wav2vec2", "checkpoint": str(checkpoint),
                             "device": "cpu"}}
    db = tmp / "overhead.duckdb"
    build_dataset(db, data, files)
    lines = ["| engine | executor | files | audio s | wall s | first file stored after s "
             "| x real time | WER |", "|---|---|---|---|---|---|---|---|"]
    first = watch_first_result()
    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
    start_s = time.perf_counter() - t0
    lines.insert(0, f"local Ray cluster start (ray.init, {os.cpu_count()} CPUs): "
                    f"{start_s:.1f} s, not in the Ray rows below")
    for name in engines:
        for executor in ("one process", "Ray, local cluster"):
            engine = connect(db)
            extra = {} if executor == "one process" else {"executor": RayExecutor()}
            t0 = time.perf_counter()
            first.clear()
            result = infer(engine, run_id=f"{name}-{len(lines)}", progress=False,
                           **settings[name], **extra)
            wall = time.perf_counter() - t0
            engine.dispose()
            lines.append(f"| {name} | {executor} | {result.files_done} | "
                         f"{result.audio_s:.0f} | {wall:.1f} | {first[0] - t0:.1f} | "
                         f"{result.audio_s / wall:.2f} | {result.wer:.4f} |")
            print(lines[-1], file=sys.stderr)
    ray.shutdown()
    return lines


def watch_first_result() -> list[float]:
    """A list that gets the perf_counter of each run's first stored file (both loops)."""
    from asrlens.infer.ray_run import RayLoop

    first: list[float] = []
    for cls, method in ((Loop, "_store"), (RayLoop, "_receive")):
        original = getattr(cls, method)

        def wrapped(self, *args, _original=original, **kwargs):
            _original(self, *args, **kwargs)
            if not first:
                first.append(time.perf_counter())

        setattr(cls, method, wrapped)
    return first


# --- 2. write rate --------------------------------------------------------------------------


def synthetic_files(n: int, *, run_id: str, file_s: float, seed: int = 0) -> list[dict]:
    """n files' rows as a worker sends them: ~20 words, ~3 errors, 20 timed words."""
    from asrlens.infer.recognizers.base import Hypothesis, HypWord

    rng = random.Random(seed)
    loop = Loop(None, run_id=run_id, recognizer=NullRecognizer(), normalizer=LJSPEECH,
                 batch_files=1, batch_seconds=0, prefetch_files=0, wall_before=0, started=0)
    distinct = []
    for i in range(50):  # scoring is the workers' job: score 50, reuse them under new ids
        ref = [rng.choice(WORDS) for _ in range(20)]
        hyp = list(ref)
        hyp[rng.randrange(20)] = rng.choice(WORDS)
        del hyp[rng.randrange(19)]
        hyp.insert(rng.randrange(19), rng.choice(WORDS))
        words = [HypWord(w, start_s=0.3 * k, end_s=0.3 * k + 0.25, confidence=0.9)
                 for k, w in enumerate(hyp)]
        utt = _Utterance(utt_id=f"S{i}", ref_raw=" ".join(ref), path=Path("x.wav"))
        item = _Loaded(utt, Length(int(file_s * SAMPLE_RATE)), None, 0.01)
        distinct.append(loop._process(item, Hypothesis(" ".join(hyp), words), 0.01))
    files = []
    for i in range(n):
        rows = distinct[i % len(distinct)]
        utt_id = f"U{i:07d}"
        files.append({
            "transcript": {**rows["transcript"], "utt_id": utt_id},
            "errors": {**rows["errors"], "utt_id": utt_id},
            "ops": [{**op, "utt_id": utt_id} for op in rows["ops"]],
            "words": [{**w, "utt_id": utt_id} for w in rows["words"]],
        })
    return files


def write_rate(data: Path, files: int, tmp: Path, commit_sizes: list[int],
               file_s: float) -> tuple[list[str], float]:
    """Markdown rows; the best files/s of the driver's path."""
    lines = ["| commit size (files) | files | wall s | files/s | rows/s (all 4 tables) |",
             "|---|---|---|---|---|"]
    best = 0.0
    rows_per_file = None
    for size in commit_sizes:
        db = tmp / f"write-{size}.duckdb"
        build_dataset(db, data, files, synthetic=True)
        run_id = "write"
        engine = connect(db)
        create_run(engine, run_id=run_id, dataset="bench", recognizer=NullRecognizer(),
                    normalizer=LJSPEECH, options={}, files_total=files)
        loop = Loop(engine, run_id=run_id, recognizer=NullRecognizer(), normalizer=LJSPEECH,
                     batch_files=size, batch_seconds=1e9, prefetch_files=0, wall_before=0,
                     started=time.perf_counter())
        sent = [pickle.dumps(chunk) for chunk in _chunks(
            synthetic_files(files, run_id=run_id, file_s=file_s), size)]
        t0 = time.perf_counter()
        for blob in sent:  # what RayLoop does per received batch
            loop.pending += pickle.loads(blob)
            loop.commit()
        wall = time.perf_counter() - t0
        counts = {t: query(engine, f"select count(*) as n from {t}")[0]["n"]
                  for t in RESULT_TABLES}
        engine.dispose()
        rows_per_file = {t: n / files for t, n in counts.items()}
        total = sum(counts.values())
        best = max(best, files / wall)
        lines.append(f"| {size} | {files} | {wall:.1f} | {files / wall:,.0f} | "
                     f"{total / wall:,.0f} |")
        print(lines[-1], file=sys.stderr)
    mix = ", ".join(f"{t} {n:.1f}" for t, n in rows_per_file.items())
    lines.append("")
    lines.append(f"rows per file: {mix}")
    return lines, best


def table_rates(data: Path, files: int, tmp: Path, size: int) -> list[str]:
    """Each table's bulk insert alone, `size` files per statement."""
    db = tmp / "tables.duckdb"
    build_dataset(db, data, files, synthetic=True)
    engine = connect(db)
    create_run(engine, run_id="write", dataset="bench", recognizer=NullRecognizer(),
                normalizer=LJSPEECH, options={}, files_total=files)
    rows = synthetic_files(files, run_id="write", file_s=7.0)
    pick = {"transcripts": lambda f: [f["transcript"]], "utterance_errors": lambda f: [f["errors"]],
            "alignment_ops": lambda f: f["ops"], "hyp_words": lambda f: f["words"]}
    lines = ["| table | rows | wall s | rows/s |", "|---|---|---|---|"]
    for table in RESULT_TABLES:
        chunks = [[r for f in chunk for r in pick[table](f)] for chunk in _chunks(rows, size)]
        t0 = time.perf_counter()
        for chunk in chunks:
            with engine.begin() as conn:
                insert_rows(conn, table, chunk)
        wall = time.perf_counter() - t0
        n = sum(map(len, chunks))
        lines.append(f"| {table} | {n:,} | {wall:.2f} | {n / wall:,.0f} |")
        print(lines[-1], file=sys.stderr)
    engine.dispose()
    return lines


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--clips", type=int, default=32, help="files of the overhead runs")
    parser.add_argument("--engines", default="pocketsphinx,wav2vec2")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--files", type=int, default=20000, help="synthetic files written")
    parser.add_argument("--commit-sizes", default="8,64,512")
    parser.add_argument("--file-s", type=float, default=7.0, help="audio seconds per file")
    parser.add_argument("--gpu-x-rt", type=float, default=6000.0,
                        help="one GPU's rate in x real time (issue 9's BASE target)")
    args = parser.parse_args()

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load average "
          f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min) at start")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_overhead:
            print("\n## Overhead of a local Ray cluster\n")
            print("\n".join(overhead(args.data, args.clips, tmp, args.engines.split(","))))
        print("\n## Driver write rate (unpickle + Loop.commit)\n")
        sizes = [int(s) for s in args.commit_sizes.split(",")]
        lines, best = write_rate(args.data, args.files, tmp, sizes, args.file_s)
        print("\n".join(lines))
        print(f"\n## Each table's bulk insert alone ({max(sizes)} files per statement)\n")
        print("\n".join(table_rates(args.data, args.files, tmp, max(sizes))))
    per_gpu = args.gpu_x_rt / args.file_s
    print(f"\n## GPUs per driver\n\none GPU at {args.gpu_x_rt:,.0f} x real time on "
          f"{args.file_s:g} s files: {per_gpu:,.0f} files/s; the driver stores {best:,.0f} "
          f"files/s at best: {best / per_gpu:.1f} GPUs")
    print(f"load average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
