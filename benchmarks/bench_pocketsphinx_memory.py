"""pocketsphinx peak memory against file length: blocks of at most 30 s vs one pass.

Prints markdown for BENCHMARKS.md ("pocketsphinx memory"). Each probe runs in a fresh
process: build the engine, decode and resample the file (the sample clips concatenated and
tiled to --minutes for the long one), then transcribe it. Reported per probe: resident MB
before transcribing (libraries, model, audio), the peak while transcribing (the larger of
Linux VmHWM, reset just before, and VmRSS sampled every 20 ms by a separate process: the
kernel updates VmHWM lazily, so it alone can miss a peak, and pocketsphinx holds the GIL, so
a thread could not sample), and the wall time.

    .venv/bin/python benchmarks/bench_pocketsphinx_memory.py --minutes 30
    .venv/bin/python benchmarks/bench_pocketsphinx_memory.py --minutes 30 --skip-one-pass
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ljspeech-sample"
SAMPLE_RATE = 16000  # Hz, pocketsphinx's model
SHORT_CLIP = "LJ001-0002"  # 1.9 s
ONE_PASS_CHUNK_S = 1e9  # a block longer than any file: the whole file as one utterance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the long file")
    parser.add_argument("--skip-one-pass", action="store_true",
                        help="blocks only (one pass over a long file takes minutes and GBs)")
    parser.add_argument("--probe", nargs=2, metavar=("SECONDS", "CHUNK_S"),
                        help=argparse.SUPPRESS)  # internal: one probe in this process
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.data, float(args.probe[0]), float(args.probe[1]))))
        return

    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} "
          f"{platform.release()}, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f} at start\n")
    print("| file | decoded as | RSS before MB | peak RSS while transcribing MB "
          "| growth MB | words | wall s |")
    print("|---|---|---|---|---|---|---|")
    long_s = args.minutes * 60
    probes = [(0.0, 30.0), (0.0, ONE_PASS_CHUNK_S), (long_s, 30.0)]
    if not args.skip_one_pass:
        probes.append((long_s, ONE_PASS_CHUNK_S))
    for seconds, chunk_s in probes:
        out = subprocess.run(
            [sys.executable, __file__, "--data", str(args.data), "--probe", str(seconds),
             str(chunk_s)], capture_output=True, text=True, check=True, env=os.environ)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        mode = "one pass" if chunk_s == ONE_PASS_CHUNK_S else f"blocks of <= {chunk_s:g} s"
        print(f"| {row['audio_s']:.1f} s | {mode} | {row['idle_mb']:.0f} | "
              f"{row['peak_mb']:.0f} | {row['peak_mb'] - row['idle_mb']:.0f} | "
              f"{row['words']} | {row['wall_s']:.1f} |", flush=True)


def probe(data: Path, seconds: float, chunk_s: float) -> dict:
    """Transcribe SHORT_CLIP (seconds 0) or the clips tiled to `seconds`; memory figures."""
    from asrlens.audio import load_audio
    from asrlens.infer.recognizers.pocketsphinx import PocketsphinxRecognizer

    engine = PocketsphinxRecognizer(chunk_s=chunk_s)
    if seconds == 0:
        samples = load_audio(data / "wavs" / f"{SHORT_CLIP}.wav", sample_rate=SAMPLE_RATE)[0]
    else:
        clips = [load_audio(p, sample_rate=SAMPLE_RATE)[0]
                 for p in sorted((data / "wavs").glob("*.wav"))]
        tiled = np.concatenate(clips)
        reps = int(np.ceil(seconds * SAMPLE_RATE / len(tiled)))
        samples = np.tile(tiled, reps)[: int(seconds * SAMPLE_RATE)]
        del clips, tiled
    idle = _rss_mb()
    _reset_peak_rss_mb()  # forget the peak of loading and resampling
    sampler = subprocess.Popen([sys.executable, "-c", SAMPLER, str(os.getpid())],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    start = time.perf_counter()
    hypothesis = engine.transcribe(samples)
    wall = time.perf_counter() - start
    sampled_kb = int(sampler.communicate("")[0])  # closing its stdin stops it
    return {"audio_s": len(samples) / SAMPLE_RATE, "idle_mb": idle,
            "peak_mb": max(_reset_peak_rss_mb(), sampled_kb / 1024),
            "words": len(hypothesis.words), "wall_s": wall}


SAMPLER = """
import select, sys
pid, peak = sys.argv[1], 0
while not select.select([sys.stdin], [], [], 0.02)[0]:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                peak = max(peak, int(line.split()[1]))
print(peak)
"""
"""A process printing the largest VmRSS (kB) of process argv[1], polled every 20 ms, once
its stdin is closed."""


def _rss_mb() -> float:
    return _status_kb("VmRSS:") / 1024


def _reset_peak_rss_mb() -> float:
    """Peak resident MB since the last call (Linux: VmHWM, reset through clear_refs)."""
    peak_kb = _status_kb("VmHWM:")
    Path("/proc/self/clear_refs").write_text("5")
    return peak_kb / 1024


def _status_kb(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field)))


if __name__ == "__main__":
    main()
