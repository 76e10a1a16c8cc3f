"""Engine speed and memory: real-time factors per engine/precision, peak memory vs file length.

Prints markdown for BENCHMARKS.md ("Engines speed"):
  1. pocketsphinx and wav2vec2 BASE (fp32, bf16) over the LJSpeech sample clips: model load
     seconds, transcription wall seconds (audio already decoded and resampled), real-time
     factor = wall / audio seconds;
  2. wav2vec2 peak resident memory while transcribing one long file (the sample clips tiled to
     60, 120, 240 s) with the default 30 s chunks and in a single pass, each in a fresh process.

Weights: --placeholder uses random weights of the exact BASE architecture (speed and memory do
not depend on the weight values; transcripts do, so none are scored here).

    .venv/bin/python benchmarks/bench_engines.py --placeholder
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchaudio

from asrlens.audio import load_audio
from asrlens.infer.recognizers import get_recognizer

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"
SAMPLE_RATE = 16000  # Hz
PLACEHOLDER_FILE = "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
LONG_FILES_S = (60, 120, 240)  # seconds of tiled audio for the memory probe
SINGLE_PASS_MAX_S = 120  # longest file run unchunked (attention memory grows with length^2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--placeholder", action="store_true")
    parser.add_argument("--skip-memory", action="store_true", help="speed table only")
    parser.add_argument("--repeats", type=int, default=2, help="timing rounds (best is kept)")
    parser.add_argument("--probe-memory", nargs=2, metavar=("SECONDS", "CHUNK_S"),
                        help=argparse.SUPPRESS)  # internal: one memory probe in this process
    args = parser.parse_args()
    if args.placeholder and "TORCH_HOME" not in os.environ:
        os.environ["TORCH_HOME"] = seed_placeholder()
    if args.probe_memory:
        print(json.dumps(probe_memory(args.data, float(args.probe_memory[0]),
                                      float(args.probe_memory[1]))))
        return

    paths = sorted((args.data / "wavs").glob("*.wav"))[: args.files]
    clips = [load_audio(p, sample_rate=SAMPLE_RATE)[0] for p in paths]
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio\n")
    engines, load_s = {}, {}
    for name, precision in (("pocketsphinx", "fp32"), ("wav2vec2", "fp32"),
                            ("wav2vec2", "bf16")):
        start = time.perf_counter()
        engines[name, precision] = get_recognizer(name, device="cpu", precision=precision)
        load_s[name, precision] = time.perf_counter() - start
        engines[name, precision].transcribe(clips[0])  # warm-up
    # engines interleaved clip by clip, best of the repeats per clip: load from other
    # processes on the machine then hits every engine alike
    per_clip = {key: [float("inf")] * len(clips) for key in engines}
    for _ in range(args.repeats):
        for i, clip in enumerate(clips):
            for key, engine in engines.items():
                start = time.perf_counter()
                engine.transcribe(clip)
                per_clip[key][i] = min(per_clip[key][i], time.perf_counter() - start)
    best = {key: sum(times) for key, times in per_clip.items()}
    print(f"| engine | model | precision | load s | wall s (best of {args.repeats} per clip) "
          "| real-time factor |")
    print("|---|---|---|---|---|---|")
    for (name, precision), engine in engines.items():
        wall = best[name, precision]
        print(f"| {name} | {engine.model} | {precision} | {load_s[name, precision]:.1f} "
              f"| {wall:.1f} | {wall / audio_s:.3f} |")
    del engines
    if args.skip_memory:
        return

    print("\n| file length s | chunks of | peak RSS MB while transcribing "
          "| above the peak for a 10 s file MB | wall s |")
    print("|---|---|---|---|---|")
    for seconds in LONG_FILES_S:
        for chunk_s in (30.0, 1e9):
            if chunk_s > seconds and seconds > SINGLE_PASS_MAX_S:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--data", str(args.data), "--probe-memory",
                 str(seconds), str(chunk_s)],
                capture_output=True, text=True, check=True, env=os.environ,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            label = "30 s" if chunk_s < seconds else "single pass"
            print(f"| {seconds} | {label} | {row['peak_mb']:.0f} | {row['growth_mb']:.0f} "
                  f"| {row['wall_s']:.1f} |")


def seed_placeholder() -> str:
    home = Path(tempfile.mkdtemp(prefix="bench_torch_home_"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)  # 378 MB of noise
    (home / "hub" / "checkpoints").mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchaudio.models.wav2vec2_base(aux_num_out=32).state_dict(),
               home / "hub" / "checkpoints" / PLACEHOLDER_FILE)
    return str(home)


def probe_memory(data: Path, seconds: float, chunk_s: float) -> dict:
    """Peak RSS transcribing one tiled file of `seconds`, after a 10 s warm-up file."""
    clips = [load_audio(p, sample_rate=SAMPLE_RATE)[0]
             for p in sorted((data / "wavs").glob("*.wav"))]
    tiled = np.concatenate(clips)
    reps = int(np.ceil(seconds * SAMPLE_RATE / len(tiled)))
    long = np.tile(tiled, reps)[: int(seconds * SAMPLE_RATE)]
    engine = get_recognizer("wav2vec2", device="cpu", chunk_s=min(chunk_s, 1e6))
    engine.transcribe(long[: 10 * SAMPLE_RATE])
    before = _reset_peak_rss_mb()  # forget the peak of loading the weights
    engine.transcribe(long[: 10 * SAMPLE_RATE])
    short_peak = _reset_peak_rss_mb()
    start = time.perf_counter()
    engine.transcribe(long)
    wall = time.perf_counter() - start
    peak = _reset_peak_rss_mb()
    return {"peak_mb": peak, "growth_mb": peak - short_peak, "wall_s": wall, "idle_mb": before}


def _reset_peak_rss_mb() -> float:
    """Peak resident MB since the last call (Linux: VmHWM, reset through clear_refs)."""
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines()
                       if line.startswith("VmHWM:")))
    Path("/proc/self/clear_refs").write_text("5")
    return peak_kb / 1024


if __name__ == "__main__":
    main()
