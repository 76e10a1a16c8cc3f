"""Non-speech probe clips: a dataset a clean recognizer transcribes as nothing at all.

    write_probe_dataset(Path("probe"), seed=0)   # probe/wavs/*.wav + probe/labels.csv

Each clip is PROBE_SECONDS long, mono 16-bit PCM at SAMPLE_RATE, made from a NumPy generator
seeded with `seed` (the same seed writes the same bytes). Its reference is empty; the labels
file (CSV with a header) gives each clip's kind in a column `probe_kind`. The kinds, with
their levels (RMS in dB relative to full scale):

- silence              digital zeros;
- white_noise          Gaussian white noise at WHITE_DBFS;
- pink_noise           1/f noise (power falls 3 dB per octave) at PINK_DBFS;
- tone                 a TONE_HZ sine at TONE_DBFS;
- speech_shaped_noise  Gaussian noise with a long-term speech spectrum: flat from 100 to
                       500 Hz, falling 6 dB per octave above, nothing below 100 Hz, at
                       SPEECH_SHAPED_DBFS (a speech level: what an overloud fan sounds like).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000
PROBE_SECONDS = 10.0
WHITE_DBFS = -50.0
PINK_DBFS = -50.0
TONE_HZ = 440.0
TONE_DBFS = -20.0
SPEECH_SHAPED_DBFS = -25.0
KINDS = ("silence", "white_noise", "pink_noise", "tone", "speech_shaped_noise")
"""The clip kinds, in the order they are written."""
KIND_COLUMN = "probe_kind"
"""The labels column (utterance_labels.name) holding each clip's kind."""


def _at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x ** 2))
    return x * (10 ** (dbfs / 20) / rms)


def _shaped(rng: np.random.Generator, n: int, gain) -> np.ndarray:
    """Gaussian noise whose amplitude spectrum is multiplied by gain(frequencies in Hz)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    return np.fft.irfft(spectrum * gain(freqs), n)


def make_clip(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One clip of `kind` as float64 samples in [-1, 1]."""
    n = int(PROBE_SECONDS * SAMPLE_RATE)
    if kind == "silence":
        return np.zeros(n)
    if kind == "white_noise":
        return _at_level(rng.standard_normal(n), WHITE_DBFS)
    if kind == "pink_noise":
        pink = _shaped(rng, n, lambda f: 1 / np.sqrt(np.maximum(f, 20.0)))
        return _at_level(pink, PINK_DBFS)
    if kind == "tone":
        t = np.arange(n) / SAMPLE_RATE
        return _at_level(np.sin(2 * np.pi * TONE_HZ * t), TONE_DBFS)
    if kind == "speech_shaped_noise":
        speech = _shaped(rng, n, lambda f: np.where(f < 100, 0.0,
                                                    np.minimum(1.0, 500 / np.maximum(f, 1.0))))
        return _at_level(speech, SPEECH_SHAPED_DBFS)
    raise ValueError(f"unknown probe kind {kind!r}")


def write_probe_dataset(folder: Path, *, seed: int = 0, clips_per_kind: int = 1) -> list[str]:
    """Write the clips (folder/wavs/<kind>-<k>.wav) and folder/labels.csv; the utt_ids."""
    rng = np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in KINDS:
        for k in range(clips_per_kind):
            utt_id = f"{kind}-{k}"
            samples = np.clip(make_clip(kind, rng), -1.0, 1.0)
            sf.write(folder / "wavs" / f"{utt_id}.wav", samples, SAMPLE_RATE, subtype="PCM_16")
            rows.append({"id": utt_id, "transcript": "", KIND_COLUMN: kind})
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "transcript", KIND_COLUMN])
        writer.writeheader()
        writer.writerows(rows)
    return [r["id"] for r in rows]
