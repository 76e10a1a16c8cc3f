"""--cpu-kernels stock against onednn (guarded): whole `asrlens infer` processes on CPU.

Each case is one fresh process, `asrlens infer --engine wav2vec2 --device cpu` over the
LJSpeech sample (32 clips) into a copy of one ingested database, timed from start to exit
(so model loading and the onednn probe count). Cases are interleaved (stock, onednn, stock,
onednn, ...) so that a load change on a shared machine hits both; the best of --repeats is
reported per case, as x real time (audio seconds per wall second).

The weights are a random BASE checkpoint of the exact architecture (as the tests'
placeholder): the same computation as the real model, so the timing holds; its transcripts
are noise and no accuracy is read from it.

    .venv/bin/python benchmarks/bench_cpu_kernels.py --repeats 2 --precisions fp32 bf16
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"
CHECKPOINT = "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
ASRLENS = [sys.executable, "-m", "asrlens"]


def placeholder_checkpoint(folder: Path) -> Path:
    import torch
    import torchaudio

    torch.manual_seed(0)
    path = folder / CHECKPOINT
    torch.save(torchaudio.models.wav2vec2_base(aux_num_out=32).state_dict(), path)
    return path


def one_run(base_db: Path, folder: Path, checkpoint: Path, *, precision: str, kernels: str,
            tag: str, limit: int | None) -> dict:
    db = folder / f"{tag}.duckdb"
    shutil.copy(base_db, db)
    command = [*ASRLENS, "infer", "--engine", "wav2vec2", "--checkpoint", str(checkpoint),
               "--device", "cpu", "--precision", precision, "--cpu-kernels", kernels,
               "--no-analyze", "--no-progress", "--run", tag, "--db", str(db)]
    if limit:
        command += ["--limit", str(limit)]
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    cpu = _children_cpu_s() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    out = subprocess.run([*ASRLENS, "sql", "--db", str(db), "--format", "json",
                          "select r.options, s.audio_hours from runs r join run_summary s "
                          f"using (run_id) where run_id = '{tag}'"],
                         capture_output=True, text=True, check=True).stdout
    row = json.loads(out)[0] if out.strip().startswith("[") else json.loads(out.splitlines()[0])
    options = json.loads(row["options"])
    db.unlink()
    return {"wall_s": wall, "cpu_s": cpu, "audio_s": row["audio_hours"] * 3600,
            "used": options.get("cpu_kernels_used"), "warning": done.stderr.strip()[-200:]}


def _children_cpu_s() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--limit", type=int, help="only the first N clips [default: all]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checkpoint = placeholder_checkpoint(folder)
        base_db = folder / "base.duckdb"
        subprocess.run([*ASRLENS, "ingest", str(args.data), "--db", str(base_db)],
                       check=True, capture_output=True)
        results: dict[tuple[str, str], list[dict]] = {}
        for repeat in range(args.repeats):
            for precision in args.precisions:
                for kernels in ("stock", "onednn"):
                    r = one_run(base_db, folder, checkpoint, precision=precision,
                                kernels=kernels, tag=f"{precision}-{kernels}-{repeat}",
                                limit=args.limit)
                    results.setdefault((precision, kernels), []).append(r)
                    print(f"# {precision} {kernels} run {repeat + 1}: {r['wall_s']:.1f} s wall, "
                          f"{r['cpu_s']:.1f} s CPU, {r['audio_s']:.1f} s audio, "
                          f"{r['audio_s'] / r['wall_s']:.2f}x real time, used {r['used']}",
                          flush=True)
    print(f"\ncpus {os.cpu_count()}; best of {args.repeats}, whole processes\n")
    print("| precision | --cpu-kernels | best wall s | x real time | best CPU s | kernels used |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (precision, kernels), runs in results.items():
        best = min(runs, key=lambda r: r["wall_s"])
        cpu = min(r["cpu_s"] for r in runs)
        print(f"| {precision} | {kernels} | {best['wall_s']:.1f} | "
              f"{best['audio_s'] / best['wall_s']:.2f} | {cpu:.1f} | {best['used']} |")


if __name__ == "__main__":
    main()
