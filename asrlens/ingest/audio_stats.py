"""Per-file audio facts and level statistics, read once per file, in parallel over the cores.

    facts = read_audio_facts(Path("wavs/LJ001-0001.wav"))
    facts.duration_s, facts.peak_dbfs, facts.silence_fraction

Definitions (all over every channel together, samples as floats in [-1, 1]):
- peak_dbfs: 20*log10(max |x|); None for digital silence (all zeros).
- rms_dbfs: 10*log10(mean x^2); None for digital silence.
- clipped_fraction: fraction of samples with |x| >= CLIP_LEVEL.
- silence_fraction: fraction of SILENCE_FRAME_S frames (the last one may be shorter) whose
  RMS is more than SILENCE_BELOW_PEAK_DB below the file's peak; 1.0 for digital silence.
- non_finite_samples: samples that are NaN or ±inf (possible in float files). They are left
  out of all the statistics above, which describe the finite samples; a file with none
  but those has no statistics.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import io
import math
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from asrlens.audio import missing_data_bytes
from asrlens.db import one_line
from asrlens.errors import AsrlensError

CLIP_LEVEL = 0.999
"""|sample| at or above this (fraction of full scale) counts as clipped."""

SILENCE_FRAME_S = 0.025
"""Frame length for silence_fraction, seconds."""

SILENCE_BELOW_PEAK_DB = 40.0
"""A frame is silent when its RMS is more than this many dB below the file's peak."""

BLOCK_FRAMES = 1 << 22
"""Audio read per step, frames (about 95 s at 44.1 kHz): bounds memory on long files."""

POOL_MIN_FILES = 64
"""Fewer files than this are read in-process: a pool would cost more than it saves."""

CHUNK_FILES = 16
"""Files per task sent to a worker process (amortises inter-process overhead)."""

_CLIP_SQ = float(np.float32(CLIP_LEVEL) * np.float32(CLIP_LEVEL))  # |x| >= CLIP_LEVEL, squared


@dataclass(frozen=True)
class AudioFacts:
    """What one read of an audio file tells. Header fields and statistics are None when the
    file could not be decoded; `problem` then says why ('empty_audio' or 'corrupt_audio')."""

    path: str  # as given (relative to the dataset root)
    bytes: int
    mtime: float  # Unix seconds
    sha256: str | None
    format: str | None = None
    subtype: str | None = None
    sample_rate: int | None = None  # Hz
    channels: int | None = None
    frames: int | None = None  # samples per channel
    duration_s: float | None = None
    peak_dbfs: float | None = None
    rms_dbfs: float | None = None
    clipped_fraction: float | None = None
    silence_fraction: float | None = None
    non_finite_samples: int | None = None  # NaN / inf samples, left out of the statistics
    problem: str | None = None  # 'empty_audio' / 'corrupt_audio' (ingest_issues kinds)
    message: str | None = None  # why, for the user


def read_audio_facts(path: Path, *, relative: str | None = None) -> AudioFacts:
    """Stat, hash and decode one file. Never raises for a bad file: see AudioFacts.problem."""
    name = relative if relative is not None else os.fspath(path)
    try:
        stat = path.stat()
        digest = _sha256(path)
    except OSError as exc:
        return AudioFacts(name, 0, 0.0, None, problem="corrupt_audio",
                          message=f"{name}: cannot read: {exc.strerror or exc}")
    base = dict(path=name, bytes=stat.st_size, mtime=stat.st_mtime, sha256=digest)
    return _decode_facts(os.fspath(path), base)


def read_bytes_facts(data: bytes, *, name: str, mtime: float) -> AudioFacts:
    """read_audio_facts for an encoded file held in memory (audio embedded in a parquet
    file), decoded from a BytesIO: hashed and measured as a file of these bytes would be."""
    base = dict(path=name, bytes=len(data), mtime=mtime,
                sha256=hashlib.sha256(data).hexdigest())
    return _decode_facts(io.BytesIO(data), base)


def _decode_facts(source, base: dict) -> AudioFacts:
    """Decode `source` (a path or a file object) into AudioFacts on top of `base`."""
    name = base["path"]
    if base["bytes"] == 0:
        return AudioFacts(**base, problem="empty_audio", message=f"{name}: zero-length file")
    try:
        with sf.SoundFile(source) as f:
            header = dict(format=f.format, subtype=f.subtype, sample_rate=f.samplerate,
                          channels=f.channels, frames=f.frames)
            if f.frames <= 0:
                return AudioFacts(**base, **header, duration_s=0.0, problem="empty_audio",
                                  message=f"{name}: the header says zero frames")
            missing = missing_data_bytes(f)
            if missing:
                return AudioFacts(**base, problem="corrupt_audio",
                                  message=f"{name}: truncated: {missing} bytes of audio data "
                                  "that its header announces are missing")
            stats, frames_read = _level_stats(f)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        return AudioFacts(**base, problem="corrupt_audio",
                          message=f"{name}: cannot decode: {one_line(exc)}")
    if frames_read < header["frames"]:
        return AudioFacts(**base, problem="corrupt_audio",
                          message=f"{name}: truncated: the header says {header['frames']} "
                          f"frames, only {frames_read} could be read")
    return AudioFacts(**base, **header, duration_s=header["frames"] / header["sample_rate"],
                      **stats)


def read_many(
    root: Path, relatives: Sequence[str], *, workers: int | None = None, progress: bool = True
) -> list[AudioFacts]:
    """read_audio_facts for each path (relative to root), in parallel; results in input order.

    workers: processes to use (default os.cpu_count()); 1, or fewer than POOL_MIN_FILES
    files, reads in this process. A tqdm progress bar on stderr unless progress=False.
    """
    return [facts for batch in read_batches(root, [relatives], total=len(relatives),
                                            workers=workers, progress=progress)
            for facts in batch]


def read_batches(
    root: Path, batches: Iterable[Sequence[str]], *, total: int, workers: int | None = None,
    progress: bool = True,
) -> Iterator[list[AudioFacts]]:
    """read_many over batches of paths (`total` in all), one list of facts per batch, in
    order: only one batch of paths and facts is held at a time, and one pool serves them all.
    """
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=total, unit="file", desc="reading audio", disable=not progress or not total)
    done = 0
    try:
        if workers <= 1 or total < POOL_MIN_FILES:
            for relatives in batches:
                results = []
                for relative in relatives:
                    results.append(read_audio_facts(root / relative, relative=relative))
                    bar.update(1)
                yield results
            return
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            for relatives in batches:
                results = []
                tasks = [(os.fspath(root), list(relatives[i:i + CHUNK_FILES]))
                         for i in range(0, len(relatives), CHUNK_FILES)]
                try:
                    for chunk_result in pool.map(_read_chunk, tasks):
                        results.extend(chunk_result)
                        bar.update(len(chunk_result))
                except cf.process.BrokenProcessPool as exc:
                    raise AsrlensError(
                        f"a process reading audio died (out of memory, or a crash in "
                        f"libsndfile) after {done + len(results)} of {total} files, near "
                        f"{relatives[len(results)]}: retry with --workers 1 to find the file"
                    ) from exc
                done += len(results)
                yield results
    finally:
        bar.close()


def _read_chunk(task: tuple[str, list[str]]) -> list[AudioFacts]:
    root, relatives = task
    base = Path(root)
    return [read_audio_facts(base / relative, relative=relative) for relative in relatives]


def _pool_context():
    """'fork' where available: no re-import of the caller's main module, no start-up cost.

    The workers only run soundfile and numpy, and leave through os._exit, so the parent's
    DuckDB connection and threads are never touched in them. Elsewhere: the default method.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _blocks(f: sf.SoundFile, block: int) -> Iterator[np.ndarray]:
    while True:
        data = f.read(block, dtype="float32", always_2d=True)
        if not len(data):
            return
        yield data


def _level_stats(f: sf.SoundFile) -> tuple[dict, int]:
    """Level statistics of an open file, read in blocks; (stats dict, frames actually read).

    Vectorised for speed (this is most of ingest's time): each block is squared in place,
    the per-frame sums of squares come from one matrix-vector product, and the peak is the
    largest square. Samples that are not finite (NaN, ±inf: float files only) are counted in
    non_finite_samples and left out of every statistic; a block is checked for them only
    when its largest square is not finite, so clean files pay nothing.
    """
    frame_len = max(1, round(SILENCE_FRAME_S * f.samplerate))
    per_frame = frame_len * f.channels  # samples in one whole frame, all channels
    ones = np.ones(per_frame, dtype=np.float32)
    block = max(frame_len, (BLOCK_FRAMES // frame_len) * frame_len)  # whole frames per block
    peak_sq = 0.0
    clipped = 0
    frames_read = 0
    non_finite = 0
    sums: list[np.ndarray] = []  # sum of squares of each 25 ms frame
    sizes: list[np.ndarray] = []  # finite samples in each frame (the last one may be shorter)
    for data in _blocks(f, block):
        n = data.shape[0]
        frames_read += n
        squares = data.reshape(-1)
        np.multiply(squares, squares, out=squares)  # the block is ours: square in place
        block_peak_sq = float(squares.max())
        finite = None
        if not math.isfinite(block_peak_sq):  # NaN or inf in this block: leave those out
            finite = np.isfinite(squares)
            non_finite += squares.size - int(np.count_nonzero(finite))
            squares[~finite] = 0.0
            block_peak_sq = float(squares.max())
        peak_sq = max(peak_sq, block_peak_sq)
        if block_peak_sq >= _CLIP_SQ:
            clipped += int(np.count_nonzero(squares >= _CLIP_SQ))
        whole = n // frame_len
        cut = whole * per_frame
        sums.append(squares[:cut].reshape(whole, per_frame) @ ones)
        sizes.append(np.full(whole, per_frame) if finite is None
                     else finite[:cut].reshape(whole, per_frame).sum(axis=1))
        if whole * frame_len < n:
            sums.append(np.array([squares[cut:].sum(dtype=np.float64)]))
            sizes.append(np.array([squares.size - cut if finite is None
                                   else np.count_nonzero(finite[cut:])]))
    total = frames_read * f.channels
    if total == 0:
        return {}, 0
    counted = total - non_finite
    if counted == 0:  # nothing but NaN / inf: no level to measure
        return dict(peak_dbfs=None, rms_dbfs=None, clipped_fraction=None, silence_fraction=None,
                    non_finite_samples=non_finite), frames_read
    if peak_sq == 0.0:
        return dict(peak_dbfs=None, rms_dbfs=None, clipped_fraction=0.0,
                    silence_fraction=1.0, non_finite_samples=non_finite), frames_read
    frame_sums = np.concatenate(sums).astype(np.float64)
    frame_sizes = np.concatenate(sizes)
    measured = frame_sizes > 0  # frames with at least one finite sample
    mean_square = frame_sums[measured] / frame_sizes[measured]
    rms_sq = float(frame_sums.sum()) / counted
    threshold = peak_sq * 10 ** (-SILENCE_BELOW_PEAK_DB / 10)
    return dict(
        peak_dbfs=10 * math.log10(peak_sq),
        rms_dbfs=10 * math.log10(rms_sq) if rms_sq > 0 else None,
        clipped_fraction=clipped / counted,
        silence_fraction=float(np.count_nonzero(mean_square < threshold)) / len(mean_square),
        non_finite_samples=non_finite,
    ), frames_read
