"""wav2vec2 BASE on CPU against the machine's compute bound (issue 9's CPU target).

Prints markdown for BENCHMARKS.md ("wav2vec2 on CPU against the compute bound"):
  1. the bound: the machine's matrix-multiply rate (GFLOP/s) in fp32 and bf16, torch.mm of
     square matrices, with torch's default thread count, measured between the clips of step 3
     (so load from other processes hits it as it hits the model) and the best call kept;
  2. the cost of the model: FLOPs of a BASE forward pass counted by
     torch.utils.flop_counter.FlopCounterMode for each clip's length (attention grows with the
     square of the length, so the cost per audio second is per clip, not a constant);
  3. the asrlens engine (`get_recognizer("wav2vec2")`, the code `asrlens infer` runs, one file at
     a time) and the bare torchaudio model over the LJSpeech sample clips (decoded and resampled
     beforehand), fp32 and bf16, interleaved clip by clip, best of the repeats per clip.
  Achieved rate = counted FLOPs / wall seconds; share of the bound = achieved / matmul rate.

Weights: random placeholder weights of the exact BASE architecture (speed does not depend on
the weight values).

    .venv/bin/python benchmarks/bench_cpu_bound.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
import torchaudio
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engines import DEFAULT_DATA, SAMPLE_RATE, seed_placeholder  # noqa: E402
from machine import cpu_model  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="rounds; best per clip is kept")
    parser.add_argument("--matmul-n", type=int, default=2048, help="side of the square matrices")
    args = parser.parse_args()
    os.environ.setdefault("TORCH_HOME", seed_placeholder())
    from asrlens.audio import load_audio
    from asrlens.infer.recognizers import get_recognizer

    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)\n")

    bound = dict.fromkeys(DTYPES, 0.0)
    paths = sorted((args.data / "wavs").glob("*.wav"))[: args.files]
    clips = [torch.from_numpy(load_audio(p, sample_rate=SAMPLE_RATE)[0]) for p in paths]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    bare = torchaudio.models.wav2vec2_base(aux_num_out=29).eval()
    flops = [count_flops(bare, clip) for clip in clips]
    total_gflop = sum(flops) / 1e9
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio, {total_gflop:.0f} GFLOP "
          f"({total_gflop / audio_s:.1f} GFLOP per audio second)\n")

    runners = {}
    for precision, dtype in DTYPES.items():
        engine = get_recognizer("wav2vec2", device="cpu", precision=precision)
        runners["asrlens engine", precision] = lambda c, e=engine: e.transcribe(c.numpy())
        model = torchaudio.models.wav2vec2_base(aux_num_out=29).eval().to(dtype)
        runners["torchaudio model only", precision] = (
            lambda c, m=model, d=dtype: _forward(m, c.to(d)))
    for run in runners.values():
        run(clips[0])  # warm-up
    best = {key: [float("inf")] * len(clips) for key in runners}
    for _ in range(args.repeats):
        for i, clip in enumerate(clips):
            for key, run in runners.items():
                start = time.perf_counter()
                run(clip)
                best[key][i] = min(best[key][i], time.perf_counter() - start)
            for precision, dtype in DTYPES.items():  # the bound, measured between the clips
                bound[precision] = max(bound[precision], matmul_gflops(args.matmul_n, dtype))

    print(f"| precision | matmul bound GFLOP/s (n={args.matmul_n}) | what runs | wall s "
          "| x real time | GFLOP/s | share of the bound |")
    print("|---|---|---|---|---|---|---|")
    for (what, precision), times in best.items():
        wall = sum(times)
        rate = total_gflop / wall
        print(f"| {precision} | {bound[precision]:.0f} | {what} | {wall:.1f} "
              f"| {audio_s / wall:.1f} | {rate:.0f} | {rate / bound[precision]:.0%} |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


def matmul_gflops(n: int, dtype: torch.dtype, calls: int = 3) -> float:
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(calls):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


@torch.inference_mode()
def _forward(model, wave: torch.Tensor):
    return model(wave[None])[0]


def count_flops(model, wave: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(wave[None])
    return counter.get_total_flops()


if __name__ == "__main__":
    main()
