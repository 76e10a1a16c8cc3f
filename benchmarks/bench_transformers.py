"""`--engine transformers` against `--engine wav2vec2` on the same network (BASE 960H).

Prints markdown for BENCHMARKS.md ("Transformers engine"): the wav2vec2 BASE weights are
converted to a Wav2Vec2ForCTC folder (scripts/torchaudio_to_hf.py), both engines transcribe
the sample clips one file at a time on CPU (each engine's default there), and the table gives
each engine's wall seconds (sum over clips of the best of --repeats per clip, the engines
interleaved clip by clip so load from other processes on a shared machine hits both alike),
its throughput (audio seconds per wall second) and the transformers/wav2vec2 throughput
ratio; then how many of the transcripts are identical. With --batch-seconds S both are also
timed in length-sorted batches of at most S audio seconds.

Weights: --placeholder uses random weights of the exact BASE architecture (speed does not
depend on the weight values; the transcripts are noise, compared but never scored).

    .venv/bin/python benchmarks/bench_transformers.py --placeholder [--precision bf16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_engines import DEFAULT_DATA, SAMPLE_RATE, seed_placeholder  # noqa: E402
from machine import cpu_model  # noqa: E402
from torchaudio_to_hf import convert  # noqa: E402

from asrlens.audio import load_audio  # noqa: E402
from asrlens.infer.recognizers import get_recognizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--placeholder", action="store_true")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds (best is kept)")
    parser.add_argument("--batch-seconds", type=float, default=0.0)
    args = parser.parse_args()
    if args.placeholder and "TORCH_HOME" not in os.environ:
        os.environ["TORCH_HOME"] = seed_placeholder()
    paths = sorted((args.data / "wavs").glob("*.wav"))[: args.files]
    clips = [load_audio(p, sample_rate=SAMPLE_RATE)[0] for p in paths]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    folder = convert(Path(tempfile.mkdtemp(prefix="bench_hf_")) / "wav2vec2-base-960h")
    engines = {
        "wav2vec2": get_recognizer("wav2vec2", device=args.device, precision=args.precision),
        "transformers": get_recognizer("transformers", model=str(folder), device=args.device,
                                       precision=args.precision),
    }
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start (shared with other engineers' jobs), torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads), device {args.device}, "
          f"{args.precision}")
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio\n")
    for engine in engines.values():
        engine.transcribe(clips[0])  # warm-up
    per_clip = {name: [float("inf")] * len(clips) for name in engines}
    texts = {name: [None] * len(clips) for name in engines}
    for _ in range(args.repeats):
        for i, clip in enumerate(clips):
            for name, engine in engines.items():
                start = time.perf_counter()
                texts[name][i] = engine.transcribe(clip).text
                per_clip[name][i] = min(per_clip[name][i], time.perf_counter() - start)
    print(f"| engine | wall s (best of {args.repeats} per clip) | audio s / wall s "
          "| throughput vs wav2vec2 |")
    print("|---|---|---|---|")
    base = audio_s / sum(per_clip["wav2vec2"])
    for name in engines:
        rate = audio_s / sum(per_clip[name])
        print(f"| {name} | {sum(per_clip[name]):.2f} | {rate:.1f} | {rate / base:.0%} |")
    same = sum(a == b for a, b in zip(texts["wav2vec2"], texts["transformers"], strict=True))
    print(f"\nidentical transcripts: {same} of {len(clips)}")
    if args.batch_seconds > 0:
        batched(engines, clips, audio_s, args.batch_seconds, args.repeats)


def batched(engines: dict, clips: list, audio_s: float, seconds: float, repeats: int) -> None:
    """Both engines over length-sorted batches of at most `seconds` of audio, interleaved."""
    order = sorted(range(len(clips)), key=lambda i: -len(clips[i]))
    batches, current, total = [], [], 0.0
    for i in order:
        length = len(clips[i]) / SAMPLE_RATE
        if current and total + length > seconds:
            batches.append(current)
            current, total = [], 0.0
        current.append(clips[i])
        total += length
    batches.append(current)
    best = {name: [float("inf")] * len(batches) for name in engines}
    for _ in range(repeats):
        for b, batch in enumerate(batches):
            for name, engine in engines.items():
                start = time.perf_counter()
                engine.transcribe_batch(batch)
                best[name][b] = min(best[name][b], time.perf_counter() - start)
    print(f"\nbatches of at most {seconds:g} s ({len(batches)} batches):\n")
    print("| engine | wall s | audio s / wall s |")
    print("|---|---|---|")
    for name in engines:
        print(f"| {name} | {sum(best[name]):.2f} | {audio_s / sum(best[name]):.1f} |")


if __name__ == "__main__":
    main()
