"""How long `asrlens explore` spends per step on one file, and what the one-pass wav2vec2
view saves over running the model twice (extract_features, then forward).

    .venv/bin/python benchmarks/bench_explore.py [WAV] [--repeats N]

WAV defaults to the longest clip of the shared LJSpeech sample (9.9 s). The model is
WAV2VEC2_ASR_BASE_960H's architecture with random weights, saved in a temporary TORCH_HOME
and loaded through bundle.get_model(): the timings hold for the real weights, the
transcripts do not. Prints the median of N repeats per step, the device and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

SAMPLE_WAV = (Path(__file__).resolve().parents[1].parent / "shared" / "data"
              / "ljspeech-sample" / "wavs" / "LJ001-0014.wav")
PLACEHOLDER = "wav2vec2_fairseq_base_ls960_asr_ls960.pth"


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", nargs="?", type=Path, default=SAMPLE_WAV)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    os.environ["TORCH_HOME"] = str(home)
    import torch
    import torchaudio

    from asrlens.audio import load_audio, resample
    from asrlens.explore import figures
    from asrlens.explore import wav2vec2_view as w2v

    (home / "hub" / "checkpoints").mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchaudio.models.wav2vec2_base(aux_num_out=32).state_dict(),
               home / "hub" / "checkpoints" / PLACEHOLDER)

    samples, rate = load_audio(args.wav, mono=False)
    mono = samples.mean(axis=1)
    out = home / "out"
    out.mkdir()
    device = w2v.pick_device(None)
    print(f"file {args.wav.name}: {len(mono) / rate:.2f} s at {rate} Hz; device {device}; "
          f"torch threads {torch.get_num_threads()}; repeats {args.repeats}")

    rows = [
        ("read audio (soundfile)", lambda: load_audio(args.wav, mono=False)),
        ("waveform.png", lambda: figures.save_figure(
            figures.waveform_figure(samples, rate, title="w"), out / "w.png")),
        ("spectrogram.png", lambda: figures.save_figure(
            figures.spectrogram_figure(mono, rate, title="s"), out / "s.png")),
        ("mfcc.png", lambda: figures.save_figure(
            figures.mfcc_figure(mono, rate, title="m"), out / "m.png")),
        ("load BASE weights (hub cache)", lambda: w2v.load_model(device=device)),
    ]
    model, labels, model_rate = w2v.load_model(device=device)
    wave16k = resample(mono, rate, model_rate)
    tensor = torch.from_numpy(wave16k)[None].to(device)

    def one_pass():
        w2v.wav2vec2_view(model, labels, wave16k, sample_rate=model_rate, layers=(1, 6, 12))
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def two_passes():
        with torch.inference_mode():
            model.extract_features(tensor, num_layers=12)
            model(tensor)
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    one_pass()  # warm-up
    rows += [
        ("wav2vec2 view, one pass (as explore runs it)", one_pass),
        ("model alone, two passes (features, then forward)", two_passes),
    ]
    for name, fn in rows:
        print(f"{name:<52} {median_s(fn, args.repeats):7.3f} s")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
