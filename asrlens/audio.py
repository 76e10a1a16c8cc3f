"""Reading audio: soundfile decodes, torchaudio resamples. Shared by ingest, explore and infer."""

from __future__ import annotations

import functools
import os

import numpy as np
import soundfile as sf

from asrlens.errors import AsrlensError


def load_audio(
    path: str | os.PathLike, *, sample_rate: int | None = None, mono: bool = True
) -> tuple[np.ndarray, int]:
    """Decode a file to float32 in [-1, 1].

    Returns (samples, rate): samples is 1-D when mono=True (channels averaged), else
    shape (frames, channels). With sample_rate set, the audio is resampled to it with
    torchaudio's band-limited sinc resampler. Samples that are not finite (NaN, ±inf: float
    files only) are read as 0, silence. Raises AsrlensError naming the file when libsndfile
    cannot decode it.
    """
    try:
        samples, rate = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AsrlensError(f"cannot decode audio {path}: {exc}") from exc
    if not np.isfinite(samples).all():  # NaN / inf samples of a float file (ingest reports them)
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    if mono:
        samples = samples.mean(axis=1)
    if sample_rate is not None and sample_rate != rate:
        samples = resample(samples, rate, sample_rate)
        rate = sample_rate
    return np.ascontiguousarray(samples, dtype=np.float32), rate


def resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Resample along the first axis with torchaudio's band-limited sinc resampler.

    The same filter as torchaudio.functional.resample, with its kernel built once per rate
    pair and reused (building it costs more than applying it to a 10 s clip).
    """
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(samples.T if samples.ndim == 2 else samples))
    with torch.inference_mode():
        out = _resampler(orig_rate, new_rate)(tensor).numpy()
    return out.T if samples.ndim == 2 else out


@functools.lru_cache(maxsize=16)
def _resampler(orig_rate: int, new_rate: int):
    import torchaudio.transforms as T

    return T.Resample(orig_rate, new_rate)
