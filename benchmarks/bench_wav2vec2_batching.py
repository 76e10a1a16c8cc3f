"""Does batching change wav2vec2 emissions, and does it pay? Prints markdown for BENCHMARKS.md.

Runs WAV2VEC2_ASR_BASE_960H over real LJSpeech clips three ways:
  1. one file at a time (what `asrlens infer` does);
  2. zero-padded batches of files of different lengths, with `lengths` passed so the
     transformer masks the padding (the best torchaudio allows);
  3. batches of equal-length crops (no padding at all), as a control for numerical noise;
  4. zero-padded batches through the model as asrlens runs it, with the valid-length GroupNorm
     (asrlens/infer/recognizers/exact_padding.py): each file should get what it gets alone.
For 2 and 3 it reports how far each file's log-probabilities move from the one-at-a-time
run, how many frames change their argmax class and how many greedy transcripts change.
Then it times batch sizes (fp32 and bf16) over the same files.

Weights: --placeholder builds random weights of the exact BASE architecture (no network);
differences from padding are a property of the architecture (the first convolution's group
norm spans the whole, padded, time axis), so they show with any weights, but transcripts from
placeholder weights are noise: read "transcripts changed" as "greedy output changed".

    .venv/bin/python benchmarks/bench_wav2vec2_batching.py --placeholder
    .venv/bin/python benchmarks/bench_wav2vec2_batching.py --checkpoint FILE --files 32
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from bench_engines import seed_placeholder  # benchmarks/bench_engines.py

from asrlens.audio import load_audio
from asrlens.infer.ctc import greedy_decode
from asrlens.infer.recognizers.exact_padding import make_padding_exact
from asrlens.infer.recognizers.wav2vec2_weights import DEFAULT_MODEL, load_bundle_model

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"
SAMPLE_RATE = 16000  # Hz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="LJSpeech-style folder")
    parser.add_argument("--files", type=int, default=16, help="how many clips to use")
    parser.add_argument("--batch-sizes", default="1,2,4,8")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds (best is kept)")
    parser.add_argument("--checkpoint", help="BASE state dict file (else the torch hub cache)")
    parser.add_argument("--placeholder", action="store_true",
                        help="use random weights of the BASE architecture (offline)")
    args = parser.parse_args()

    if args.placeholder:
        os.environ["TORCH_HOME"] = seed_placeholder()
    model, bundle = load_bundle_model(DEFAULT_MODEL, checkpoint=args.checkpoint, device="cpu")
    labels = bundle.get_labels()
    paths = sorted((args.data / "wavs").glob("*.wav"))[: args.files]
    clips = [load_audio(p, sample_rate=SAMPLE_RATE)[0] for p in paths]
    # batch neighbours by length, as a batching loader would, to keep padding small
    clips.sort(key=len)
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; weights: "
          f"{'placeholder (random)' if args.placeholder else 'real'}")
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio, "
          f"{min(map(len, clips)) / SAMPLE_RATE:.1f}-{max(map(len, clips)) / SAMPLE_RATE:.1f} s\n")

    single = [forward(model, [c])[0] for c in clips]
    print("| batch | padding | max abs diff (log-prob) | mean abs diff "
          "| frames with another argmax | greedy transcripts changed |")
    print("|---|---|---|---|---|---|")
    for size in batch_sizes[1:]:
        batched = []
        for i in range(0, len(clips), size):
            batched += forward(model, clips[i : i + size])
        print(compare_row(size, "zero-padded, lengths masked", single, batched, labels))
    exact = copy.deepcopy(model)
    make_padding_exact(exact)
    for size in batch_sizes[1:]:
        batched = []
        for i in range(0, len(clips), size):
            batched += forward(exact, clips[i : i + size])
        print(compare_row(size, "zero-padded, valid-length GroupNorm", single, batched, labels))
    for size in batch_sizes[1:]:
        crop = min(map(len, clips))
        cropped = [c[:crop] for c in clips]
        alone = [forward(model, [c])[0] for c in cropped]
        batched = []
        for i in range(0, len(cropped), size):
            batched += forward(model, cropped[i : i + size])
        print(compare_row(size, "none (equal lengths)", alone, batched, labels))

    # round-robin repeats, best of each: other load on the machine hits every setting alike
    nets = {"fp32": model, "bf16": copy.deepcopy(model).to(dtype=torch.bfloat16)}
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.repeats):
        for precision, net in nets.items():
            for size in batch_sizes:
                forward(net, clips[:size], dtype=dtypes[precision])  # warm-up
                start = time.perf_counter()
                for i in range(0, len(clips), size):
                    forward(net, clips[i : i + size], dtype=dtypes[precision])
                wall = time.perf_counter() - start
                best[precision, size] = min(wall, best.get((precision, size), wall))
    print(f"\n| precision | batch | wall s (best of {args.repeats}) | real-time factor "
          "| x faster than fp32 batch 1 |")
    print("|---|---|---|---|---|")
    baseline = best["fp32", batch_sizes[0]]
    for (precision, size), wall in best.items():
        print(f"| {precision} | {size} | {wall:.2f} | {wall / audio_s:.3f} "
              f"| {baseline / wall:.2f} |")
    bf16_alone = [forward(nets["bf16"], [c], dtype=torch.bfloat16)[0] for c in clips]
    print("\nbf16 against fp32, one file at a time:")
    print(compare_row(1, "none", single, bf16_alone, labels))


@torch.inference_mode()
def forward(model, clips: list[np.ndarray], *, dtype=torch.float32) -> list[torch.Tensor]:
    """Log-probabilities (frames x classes, float32) per clip, zero-padding a batch."""
    lengths = torch.tensor([len(c) for c in clips])
    batch = torch.zeros((len(clips), int(lengths.max())), dtype=dtype)
    for row, clip in enumerate(clips):
        batch[row, : len(clip)] = torch.from_numpy(clip)
    logits, out_lengths = model(batch, lengths if len(clips) > 1 else None)
    frames = out_lengths.tolist() if out_lengths is not None else [logits.shape[1]]
    return [torch.log_softmax(logits[i, : frames[i]].float(), dim=-1) for i in range(len(clips))]


def compare_row(size: int, padding: str, reference, other, labels) -> str:
    diffs = [(a - b).abs() for a, b in zip(reference, other, strict=True)]
    changed_frames = sum(int((a.argmax(1) != b.argmax(1)).sum()) for a, b in
                         zip(reference, other, strict=True))
    total_frames = sum(a.shape[0] for a in reference)
    changed_text = sum(greedy_decode(a, labels).text != greedy_decode(b, labels).text
                       for a, b in zip(reference, other, strict=True))
    return (f"| {size} | {padding} | {max(float(d.max()) for d in diffs):.2e} "
            f"| {float(torch.cat([d.flatten() for d in diffs]).mean()):.2e} "
            f"| {changed_frames}/{total_frames} | {changed_text}/{len(reference)} |")


if __name__ == "__main__":
    main()
