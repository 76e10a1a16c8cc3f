"""wav2vec2 BASE on CPU against the machine's compute bound (issue 9's CPU target).

Prints markdown for BENCHMARKS.md ("wav2vec2 on CPU against the compute bound"):
  1. the bound: the machine's matrix-multiply rate (GFLOP/s) in fp32 and bf16, square
     matrices multiplied by torch.mm and by oneDNN with packed weights (the faster counts),
     with torch's default thread count, measured between the clips of step 3 (so load from
     other processes hits it as it hits the model) and the best call kept;
  2. the cost of the model: FLOPs of a BASE forward pass counted by
     torch.utils.flop_counter.FlopCounterMode for each clip's length (attention grows with the
     square of the length, so the cost per audio second is per clip, not a constant). torch
     2.11's counter has no formula for the CPU flash-attention kernel, so its attention is
     counted with torch's own formula for the other attention kernels (sdpa_flop_count);
  3. the asrlens engine (`get_recognizer("wav2vec2")`, the code `asrlens infer` runs, one file at
     a time) and the bare torchaudio model over the LJSpeech sample clips (decoded and resampled
     beforehand), fp32 and bf16, interleaved clip by clip, best of the repeats per clip.
  Achieved rate = counted FLOPs / wall seconds; share of the bound = achieved / matmul rate.
  4. where the time goes: torch.profiler over the engine's model on the longest clip, each
     kind of operation's time, FLOPs and rate against the bound.

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
from torch.profiler import profile
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from asrlens.infer.recognizers.onednn_linear import can_pack, pack_weight, product

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engines import DEFAULT_DATA, SAMPLE_RATE, seed_placeholder  # noqa: E402
from machine import cpu_model  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
CPU_ATTENTION = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
OPERATIONS = {  # profiler event names of each kind of operation with FLOPs
    "matrix products (linear layers, extractor)": {
        "aten::addmm", "aten::mm", "mkldnn::_linear_pointwise"},
    "positional convolution (oneDNN)": {"aten::mkldnn_convolution"},
    "attention (flash, CPU)": {"aten::_scaled_dot_product_flash_attention_for_cpu"},
}
EXTRACTOR = "Wav2Vec2Model.feature_extractor"  # its convolutions run as packed products


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
    mm_rate = dict.fromkeys(DTYPES, 0.0)  # torch.mm's alone: the first measure
    paths = sorted((args.data / "wavs").glob("*.wav"))[: args.files]
    clips = [torch.from_numpy(load_audio(p, sample_rate=SAMPLE_RATE)[0]) for p in paths]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    bare = torchaudio.models.wav2vec2_base(aux_num_out=29).eval()
    flops = [count_flops(bare, clip) for clip in clips]  # (all, attention's)
    total_gflop = sum(f for f, _ in flops) / 1e9
    attention_gflop = sum(a for _, a in flops) / 1e9
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio, {total_gflop:.0f} GFLOP "
          f"({total_gflop / audio_s:.1f} GFLOP per audio second)\n")

    runners, engines = {}, {}
    for precision, dtype in DTYPES.items():
        engine = engines[precision] = get_recognizer("wav2vec2", device="cpu",
                                                     precision=precision)
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
                rates = matmul_gflops(args.matmul_n, dtype)
                bound[precision] = max(bound[precision], *rates.values())
                mm_rate[precision] = max(mm_rate[precision], rates["torch.mm"])

    print(f"| precision | matmul bound GFLOP/s (n={args.matmul_n}) | what runs | wall s "
          "| x real time | GFLOP/s | share of the bound |")
    print("|---|---|---|---|---|---|---|")
    for (what, precision), times in best.items():
        wall = sum(times)
        rate = total_gflop / wall
        print(f"| {precision} | {bound[precision]:.0f} | {what} | {wall:.1f} "
              f"| {audio_s / wall:.1f} | {rate:.0f} | {rate / bound[precision]:.0%} |")
    print("\nThe same runs by the issue's first measure (attention's FLOPs not counted, "
          f"{(total_gflop - attention_gflop) / audio_s:.1f} GFLOP per audio second; torch.mm's "
          "rate as the bound):")
    for (what, precision), times in best.items():
        rate = (total_gflop - attention_gflop) / sum(times)
        print(f"- {precision}, {what}: {rate / mm_rate[precision]:.0%} of "
              f"{mm_rate[precision]:.0f} GFLOP/s")
    longest = max(clips, key=len)
    for precision, dtype in DTYPES.items():
        print(f"\nwhere the time goes, {precision}, the asrlens engine's model on the longest "
              f"clip ({len(longest) / SAMPLE_RATE:.1f} s), 3 passes:\n")
        where_the_time_goes(engines[precision]._net, bare, longest.to(dtype), bound[precision])
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


def where_the_time_goes(model, stock, wave: torch.Tensor, bound: float, passes: int = 3
                        ) -> None:
    """Profile model; FLOPs counted on stock, the same architecture as torchaudio builds it
    (the counter knows aten's products, not oneDNN's packed ones)."""
    products, positional, attention = OPERATIONS
    counts = flop_counter(stock, wave.float()).get_flop_counts()
    gflop = dict.fromkeys(OPERATIONS, 0.0)
    for op, count in counts["Global"].items():
        kind = {"aten.convolution": positional, str(CPU_ATTENTION): attention}
        gflop[kind.get(str(op), products)] += count / 1e9
    extractor = sum(count for op, count in counts.get(EXTRACTOR, {}).items()
                    if str(op) == "aten.convolution") / 1e9
    gflop[positional] -= extractor
    gflop[products] += extractor
    _forward(model, wave)
    with profile() as prof:
        for _ in range(passes):
            _forward(model, wave)
    events = prof.key_averages()
    total_ms = sum(e.self_cpu_time_total for e in events) / passes / 1e3
    print("| operations | ms per pass | share of the time | GFLOP | GFLOP/s | share of the bound |")
    print("|---|---|---|---|---|---|")
    rest = total_ms
    for kind, names in OPERATIONS.items():
        ms = sum(e.self_cpu_time_total for e in events if e.key in names) / passes / 1e3
        rest -= ms
        rate = gflop[kind] / ms * 1e3
        print(f"| {kind} | {ms:.0f} | {ms / total_ms:.0%} | {gflop[kind]:.1f} | {rate:.0f} "
              f"| {rate / bound:.0%} |")
    print(f"| everything else (no FLOPs counted) | {rest:.0f} | {rest / total_ms:.0%} "
          "| - | - | - |")
    others = sorted((e for e in events if not any(e.key in n for n in OPERATIONS.values())),
                    key=lambda e: -e.self_cpu_time_total)[:5]
    print("\nlargest of everything else (ms per pass): " + ", ".join(
        f"{e.key.removeprefix('aten::')} {e.self_cpu_time_total / passes / 1e3:.1f}"
        for e in others))


def matmul_gflops(n: int, dtype: torch.dtype, calls: int = 3) -> dict[str, float]:
    """Best rate of n x n products by torch.mm and, where torch has it, by oneDNN with packed
    weights.

    Both libraries are what the model's layers can run on (torch.mm's BLAS for nn.Linear,
    oneDNN for the convolutions and for asrlens's packed layers), so the machine's bound is
    the faster of the two.
    """
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    runs = {"torch.mm": lambda: torch.mm(a, b)}
    if can_pack():
        packed = pack_weight(b)
        runs["onednn packed"] = lambda: product(a, packed, None)
    rates = {}
    with torch.inference_mode():
        for name, run in runs.items():
            run()
            best = float("inf")
            for _ in range(calls):
                start = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - start)
            rates[name] = 2 * n**3 / best / 1e9
    return rates


@torch.inference_mode()
def _forward(model, wave: torch.Tensor):
    return model(wave[None])[0]


def _cpu_attention_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


ATTENTION_FLOPS = {CPU_ATTENTION: _cpu_attention_flops}


def flop_counter(model, wave: torch.Tensor) -> FlopCounterMode:
    """The FLOPs of one forward pass over wave, attention included."""
    with FlopCounterMode(display=False, custom_mapping=ATTENTION_FLOPS) as counter, \
            torch.no_grad():
        model(wave[None])
    return counter


def count_flops(model, wave: torch.Tensor) -> tuple[int, int]:
    """FLOPs of one forward pass over wave: all of them, and attention's."""
    counter = flop_counter(model, wave)
    attention = sum(count for op, count in counter.get_flop_counts()["Global"].items()
                    if str(op) == str(CPU_ATTENTION))
    return counter.get_total_flops(), attention


if __name__ == "__main__":
    main()
