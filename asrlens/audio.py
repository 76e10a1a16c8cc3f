"""Reading audio: soundfile decodes, torchaudio resamples. Shared by ingest, explore and infer."""

from __future__ import annotations

import functools
import io
import os
import re

import numpy as np
import soundfile as sf

from asrlens.embedded import read_embedded, split_ref
from asrlens.errors import AsrlensError

_DATA_LOG = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)")
_SAMPLE_BYTES = {"PCM_S8": 1, "PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4,
                 "DOUBLE": 8}
"""Bytes per sample of uncompressed subtypes (to turn missing bytes into frames)."""


def load_audio(
    path: str | os.PathLike, *, sample_rate: int | None = None, mono: bool = True,
    complete: bool = False, expected_frames: int | None = None,
    start_s: float | None = None, end_s: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a file to float32 in [-1, 1].

    Returns (samples, rate): samples is 1-D when mono=True (channels averaged), else
    shape (frames, channels). With sample_rate set, the audio is resampled to it with
    torchaudio's band-limited sinc resampler. Samples that are not finite (NaN, ±inf: float
    files only) are read as 0, silence. Raises AsrlensError naming the file when libsndfile
    cannot decode it.

    complete=True also raises AsrlensError when the decoded length differs from what the
    file's header announces (a truncated file, which libsndfile silently shortens) or from
    `expected_frames` (the frames ingest recorded, when given).

    start_s / end_s: read only the span [start_s, end_s) of the file (a Kaldi segment, a NeMo
    offset): frames outside it are never decoded into memory; `expected_frames` is then the
    span's. A path named `<file>.parquet#<row>` is a clip embedded in a parquet file
    (asrlens.embedded), decoded from its bytes in memory.
    """
    try:
        with sf.SoundFile(open_audio(path)) as f:
            missing = missing_data_bytes(f) if complete else 0
            block_bytes = _SAMPLE_BYTES.get(f.subtype, 0) * f.channels
            rate = f.samplerate
            start, stop = span_frames(f.frames, rate, start_s, end_s)
            header_frames = stop - start
            if start:
                f.seek(start)
            samples = f.read(stop - start, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AsrlensError(f"cannot decode audio {path}: {exc}") from exc
    if complete:
        _check_length(path, len(samples), rate, missing=missing, block_bytes=block_bytes,
                      header_frames=header_frames, expected_frames=expected_frames)
    if not np.isfinite(samples).all():  # NaN / inf samples of a float file (ingest reports them)
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    if mono:
        samples = samples.mean(axis=1)
    if sample_rate is not None and sample_rate != rate:
        samples = resample(samples, rate, sample_rate)
        rate = sample_rate
    return np.ascontiguousarray(samples, dtype=np.float32), rate


def open_audio(path: str | os.PathLike):
    """What sf.SoundFile opens for `path`: the path itself, or the bytes of an embedded clip
    (`<file>.parquet#<row>`) in a BytesIO."""
    ref = split_ref(path)
    if ref is None:
        return os.fspath(path)
    return io.BytesIO(read_embedded(*ref))


def span_frames(frames: int, rate: int, start_s: float | None,
                end_s: float | None) -> tuple[int, int]:
    """[start, stop) frames of the span [start_s, end_s) seconds, clipped to the file's
    `frames`; the whole file when both are None."""
    start = 0 if start_s is None else min(frames, max(0, round(start_s * rate)))
    stop = frames if end_s is None else min(frames, max(start, round(end_s * rate)))
    return start, stop


def missing_data_bytes(f: sf.SoundFile) -> int:
    """Bytes of sample data a WAV-like header announces beyond the end of the file (0: none).

    libsndfile silently shortens such files; its log line `data : 425786 (should be 212871)`
    tells. Placeholder sizes of streaming writers (0, 0xFFFFFFFF) are not counted.
    """
    if "should be" not in f.extra_info:
        return 0
    for line in f.extra_info.splitlines():
        match = _DATA_LOG.match(line.strip())
        if match:
            declared, actual = int(match[1]), int(match[2])
            if 0 < declared < 0xFFFFFF00 and declared > actual:
                return declared - actual
    return 0


def _check_length(path, decoded: int, rate: int, *, missing: int, block_bytes: int,
                  header_frames: int, expected_frames: int | None) -> None:
    """AsrlensError when `decoded` frames are not all the audio the file should hold."""
    got = f"decoded {decoded} frames ({decoded / rate:.2f} s)"
    if missing and block_bytes:
        announced = decoded + missing // block_bytes
        raise AsrlensError(f"{path}: truncated: {got}, but its header announces {announced} "
                           f"frames ({announced / rate:.2f} s)")
    if missing:
        raise AsrlensError(f"{path}: truncated: {got}, but its header announces {missing} "
                           "more bytes of audio data than the file holds")
    if decoded != header_frames:
        raise AsrlensError(f"{path}: truncated: {got}, but its header says {header_frames} "
                           f"frames ({header_frames / rate:.2f} s)")
    if expected_frames is not None and decoded != expected_frames:
        raise AsrlensError(f"{path}: {got}, but ingest recorded {expected_frames} frames "
                           f"({expected_frames / rate:.2f} s): the file changed since it was "
                           "ingested; run `asrlens ingest` again")


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
