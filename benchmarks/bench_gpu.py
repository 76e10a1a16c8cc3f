"""wav2vec2 BASE inference speed, asrlens against its peers, in one run. Table + JSON.

Builds the 640-file set (the 32 clips of ../shared/data/ljspeech-sample, 20 copies, 1.23 h),
ingests it into a temporary database, seeds placeholder BASE weights (random, seed 0, CTC head
scaled x20 so each frame has a clear best class; speed does not depend on the values) in a
temporary TORCH_HOME, then measures, with x real time = audio seconds / wall seconds:

  1. `asrlens infer` end to end as a subprocess (process start to finish: imports, model load,
     reading, inference, scoring, database writes), batched (the device's default batch) at
     each precision, and fp32 one file at a time (`--batch-seconds 0`); transcripts of every
     batched run are compared file for file with that one;
  2. the tutorial loop: per file read + resample + model(wave) + greedy decode (fp32);
  3. a batched HF-style peer: transformers' Wav2Vec2ForCTC (random BASE config), length-sorted
     zero-padded batches, audio read beforehand (skipped with a reason without transformers);
  4. the model-only bound: torchaudio BASE on equal 10 s crops already on the device.

No network. On an H200 the 640 files take about two minutes; `--files 8 --device cpu` runs
anywhere in a few minutes.

    python benchmarks/bench_gpu.py                       # GPU, 640 files
    python benchmarks/bench_gpu.py --device cpu --files 8 --json /tmp/bench_gpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)

DEFAULT_DATA = REPO.parent / "shared" / "data" / "ljspeech-sample"
SAMPLE_RATE = 16000  # Hz
PLACEHOLDER_FILE = "wav2vec2_fairseq_base_ls960_asr_ls960.pth"
COPIES = 20  # 32 clips x 20 = 640 files
CROP_S = 10  # seconds per crop of the model-only bound
DATASET = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", type=int, default=32 * COPIES, help="files of the set used")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precisions", help="asrlens precisions, comma-separated "
                        "[default: fp32,fp16,bf16 on cuda, fp32 on cpu]")
    parser.add_argument("--peer-batches", default=None,
                        help="HF peer batch sizes [default: 16,64 on cuda, 4 on cpu]")
    parser.add_argument("--bound-batch", type=int, help="crops per batch [64 cuda, 2 cpu]")
    parser.add_argument("--bound-repeats", type=int, help="timed batches [10 cuda, 1 cpu]")
    parser.add_argument("--json", type=Path, default=Path("bench_gpu.json"))
    args = parser.parse_args()
    cuda = args.device.startswith("cuda")
    precisions = (args.precisions or ("fp32,fp16,bf16" if cuda else "fp32")).split(",")
    peer_batches = [int(b) for b in (args.peer_batches or ("16,64" if cuda else "4")).split(",")]
    bound_batch = args.bound_batch or (64 if cuda else 2)
    bound_repeats = args.bound_repeats or (10 if cuda else 1)

    work = Path(tempfile.mkdtemp(prefix="bench_gpu_"))
    try:
        os.environ["TORCH_HOME"] = str(seed_placeholder(work / "torch_home"))
        root, audio_s = build_dataset(work / DATASET, args.data, args.files)
        db = work / "bench.duckdb"
        from asrlens.ingest import ingest_into

        ingest_into(db, root, progress=False)
        report = {"machine": machine(args.device), "files": args.files, "audio_s": audio_s,
                  "rows": [], "agreement": {}, "skipped": {}}
        print(f"{report['machine']}\n{args.files} files, {audio_s:.1f} s of audio\n", flush=True)
        rows = report["rows"]

        # the device's default at each precision (batched on a GPU, one at a time on CPU),
        # then fp32 the other way, to compare transcripts batched against one at a time
        runs = [(f"asrlens-{p}", p, None) for p in precisions]
        runs.append(("asrlens-fp32-other", "fp32", 0.0 if cuda else 60.0))
        for name, precision, batch_s in runs:
            rows.append(asrlens_infer(db, name, device=args.device, precision=precision,
                                      batch_s=batch_s))
            print_row(rows[-1])
        alone = [r["run"] for r in rows if r["batch_audio_s"] == 0][0]
        reference = transcripts(db, alone)
        for row in rows:
            name = row["run"]
            if name != alone:
                mine = transcripts(db, name)
                same = sum(mine[u] == text for u, text in reference.items())
                report["agreement"][name] = {"identical": same, "files": len(reference),
                                             "precision": row["precision"]}
                print(f"  {name}: {same} of {len(reference)} transcripts identical to fp32 "
                      "one at a time", flush=True)

        clips = [sf.read(p, dtype="float32")[0] for p in sorted(root.glob("wavs/*.wav"))]
        rows.append(tutorial_loop(sorted(root.glob("wavs/*.wav")), args.device))
        print_row(rows[-1])
        rows += hf_peer(root, args.device, peer_batches, report["skipped"])
        for row in rows[-len(peer_batches):] if "hf" not in report["skipped"] else []:
            print_row(row)
        for precision in (["fp16", "bf16"] if cuda else ["fp32"]):
            rows.append(model_bound(clips, args.device, precision, bound_batch, bound_repeats))
            print_row(rows[-1])
        print_table(report)
        args.json.write_text(json.dumps(report, indent=2))
        print(f"\nwrote {args.json}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def seed_placeholder(home: Path) -> Path:
    """A TORCH_HOME whose hub cache holds random BASE weights under the real file name."""
    (home / "hub" / "checkpoints").mkdir(parents=True)
    torch.manual_seed(0)
    model = torchaudio.models.wav2vec2_base(aux_num_out=32)
    with torch.no_grad():
        model.aux.weight.mul_(20.0)  # clear best classes: agreement counts mean something
    torch.save(model.state_dict(), home / "hub" / "checkpoints" / PLACEHOLDER_FILE)
    return home


def build_dataset(root: Path, data: Path, files: int) -> tuple[Path, float]:
    """LJSpeech layout: the sample's labelled clips, copied COPIES times, the first `files`."""
    labels = {}
    for line in (data / "labels.csv").read_text(encoding="utf-8").splitlines():
        utt_id, text, norm = line.split("|")
        labels[utt_id] = (text, norm)
    wavs = sorted((data / "wavs").glob("*.wav"))
    (root / "wavs").mkdir(parents=True)
    lines, audio_s = [], 0.0
    for copy in range(COPIES):
        for wav in wavs:
            if len(lines) == files:
                break
            utt_id = f"{wav.stem}-c{copy:02d}"
            shutil.copyfile(wav, root / "wavs" / f"{utt_id}.wav")
            lines.append(f"{utt_id}|{labels[wav.stem][0]}|{labels[wav.stem][1]}")
            audio_s += sf.info(wav).duration
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root, audio_s



def asrlens_infer(db: Path, run: str, *, device: str, precision: str,
                  batch_s: float | None) -> dict:
    """`asrlens infer` in a subprocess, timed from process start to exit."""
    command = [sys.executable, "-m", "asrlens", "infer", "--db", str(db), "--run", run,
               "--device", device, "--precision", precision, "--no-analyze", "--no-progress"]
    if batch_s is not None:
        command += ["--batch-seconds", str(batch_s)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with GpuSampler(device) as gpu:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    summary = query(db, "select s.audio_hours * 3600 as audio_s, s.wall_s, r.options from runs r "
                        "join run_summary s using (run_id) where run_id = ?", run)[0]
    options = summary[2] if isinstance(summary[2], dict) else json.loads(summary[2])
    seconds = options["batch_audio_s"]
    label = "one file at a time" if seconds == 0 else f"batches of {seconds:g} s"
    label += ", the default" if batch_s is None else f", --batch-seconds {batch_s:g}"
    return {"system": f"asrlens infer ({label})", "run": run, "precision": precision,
            "audio_s": summary[0],
            "wall_s": wall, "run_wall_s": summary[1], "x_rt": summary[0] / wall,
            "batch_audio_s": options["batch_audio_s"], "read_workers": options["read_workers"],
            **gpu.figures()}


def transcripts(db: Path, run: str) -> dict[str, str]:
    return dict(query(db, "select utt_id, hyp_raw from transcripts where run_id = ?", run))


def query(db: Path, sql: str, *params) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def tutorial_loop(paths: list[Path], device: str) -> dict:
    """The torchaudio tutorial's way: per file read, resample, model(wave), argmax decode."""
    bundle = torchaudio.pipelines.WAV2VEC2_ASR_BASE_960H
    model = bundle.get_model().to(device).eval()
    labels = bundle.get_labels()
    audio_s = 0.0
    sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        for path in paths:
            samples, rate = sf.read(path, dtype="float32")
            wave = torch.from_numpy(samples)[None]
            wave = torchaudio.functional.resample(wave, rate, int(bundle.sample_rate))
            emission, _ = model(wave.to(device))
            indices = torch.unique_consecutive(torch.argmax(emission[0], dim=-1))
            _text = "".join(labels[i] for i in indices.tolist() if i != 0).replace("|", " ")
            audio_s += len(samples) / rate
    wall = time.perf_counter() - start
    return {"system": "tutorial loop (read + resample + model(wave) + greedy, per file)",
            "precision": "fp32", "audio_s": audio_s, "wall_s": wall, "x_rt": audio_s / wall}


def hf_peer(root: Path, device: str, batch_sizes: list[int], skipped: dict) -> list[dict]:
    """transformers' Wav2Vec2ForCTC, random BASE config, length-sorted zero-padded batches."""
    try:
        from transformers import Wav2Vec2Config, Wav2Vec2ForCTC
    except ImportError as exc:
        skipped["hf"] = f"transformers is not installed ({exc})"
        print(f"HF peer skipped: {skipped['hf']}", flush=True)
        return []
    from asrlens.audio import load_audio

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(vocab_size=32)).to(device, dtype).eval()
    clips = sorted((load_audio(p, sample_rate=SAMPLE_RATE)[0]
                    for p in sorted(root.glob("wavs/*.wav"))), key=len)
    audio_s = sum(map(len, clips)) / SAMPLE_RATE
    rows = []
    for size in batch_sizes:
        run_batches(model, clips[:size], size, device, dtype)  # warm-up
        sync(device)
        start = time.perf_counter()
        run_batches(model, clips, size, device, dtype)
        sync(device)
        wall = time.perf_counter() - start
        rows.append({"system": f"HF Wav2Vec2ForCTC, sorted zero-padded batches of {size} "
                               "(audio pre-read)", "precision": str(dtype).split(".")[1],
                     "audio_s": audio_s, "wall_s": wall, "x_rt": audio_s / wall})
    return rows


def run_batches(model, clips: list[np.ndarray], size: int, device: str, dtype) -> None:
    with torch.inference_mode():
        for i in range(0, len(clips), size):
            batch = clips[i : i + size]
            padded = np.zeros((len(batch), max(map(len, batch))), dtype=np.float32)
            for row, clip in enumerate(batch):
                padded[row, : len(clip)] = clip
            logits = model(torch.from_numpy(padded).to(device, dtype)).logits
            logits.argmax(dim=-1).cpu()


def model_bound(clips: list[np.ndarray], device: str, precision: str, batch: int,
                repeats: int) -> dict:
    """torchaudio BASE on `batch` equal 10 s crops already on the device: the compute bound."""
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    model = torchaudio.pipelines.WAV2VEC2_ASR_BASE_960H.get_model().to(device, dtype).eval()
    tiled = np.concatenate([c if c.ndim == 1 else c.mean(axis=1) for c in clips])
    crop = CROP_S * SAMPLE_RATE
    crops = np.stack([np.resize(tiled[i * crop :], crop) for i in range(batch)])
    wave = torch.from_numpy(crops).to(device, dtype)
    with torch.inference_mode():
        model(wave)  # warm-up
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            model(wave)[0].float().log_softmax(-1).argmax(-1)
        sync(device)
    wall = time.perf_counter() - start
    audio_s = batch * CROP_S * repeats
    return {"system": f"model only: torchaudio BASE, {batch} equal {CROP_S} s crops per batch",
            "precision": precision, "audio_s": audio_s, "wall_s": wall, "x_rt": audio_s / wall}


class GpuSampler:
    """nvidia-smi sampled every 100 ms while a run goes: mean utilisation, peak memory."""

    def __init__(self, device: str):
        self.lines: list[str] = []
        self.active = device.startswith("cuda") and shutil.which("nvidia-smi") is not None

    def __enter__(self) -> GpuSampler:
        if self.active:
            self.proc = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
                 "--format=csv,noheader,nounits", "-lms", "100"],
                stdout=subprocess.PIPE, text=True)
            self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout))
            self.reader.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            self.proc.terminate()
            self.reader.join(timeout=5)

    def figures(self) -> dict:
        samples = [[float(x) for x in line.split(",")] for line in self.lines
                   if line.count(",") == 1]
        if not samples:
            return {}
        return {"gpu_util_mean_pct": float(np.mean([s[0] for s in samples])),
                "gpu_mem_peak_mib": max(s[1] for s in samples)}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def machine(device: str) -> str:
    text = (f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")
    if device.startswith("cuda"):
        text += f", GPU {torch.cuda.get_device_name(torch.device(device))}"
    return text


def print_row(row: dict) -> None:
    print(f"  {row['system']} [{row['precision']}]: {row['audio_s']:.1f} s audio in "
          f"{row['wall_s']:.2f} s, {row['x_rt']:.1f} x real time", flush=True)


def print_table(report: dict) -> None:
    print("\n| system | precision | audio s | wall s | x real time | GPU util % | "
          "GPU peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for row in report["rows"]:
        util = row.get("gpu_util_mean_pct")
        mem = row.get("gpu_mem_peak_mib")
        print(f"| {row['system']} | {row['precision']} | {row['audio_s']:.1f} | "
              f"{row['wall_s']:.2f} | {row['x_rt']:,.1f} | "
              f"{'-' if util is None else f'{util:.0f}'} | {'-' if mem is None else mem:} |")
    for name, agreement in report["agreement"].items():
        print(f"\n{name}: {agreement['identical']} of {agreement['files']} transcripts "
              "identical to fp32 one file at a time", end="")
    for what, reason in report["skipped"].items():
        print(f"\nskipped {what}: {reason}", end="")
    print()


if __name__ == "__main__":
    main()
