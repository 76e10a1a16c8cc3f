"""The read-ahead: the files a run transcribes, read and resampled ahead of the recognizer.

    files = load_utterances(engine, dataset="ds", normalizer=norm, limit=None)
    with _Prefetcher(batches, functools.partial(_load, sample_rate=16000)) as loaded:
        for batch in loaded: ...                    # _LoadedBatch, in the order of `batches`

Reading happens in a background thread (a small bounded queue; on a GPU, in reader processes
feeding it) while the recognizer works on the current batch; a file that cannot be read
becomes that file's error, never the run's.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.errors import AsrlensError
from asrlens.infer.batches import ReaderPool
from asrlens.scoring.normalize import Normalizer

PREFETCH_FILES = 4  # files read and resampled ahead of the recognizer
PREFETCH_TORCH_THREADS = 1  # torch threads of the reading thread (resampling); see BENCHMARKS.md


@dataclass(frozen=True)
class _Utterance:
    utt_id: str
    ref_raw: str
    path: Path
    frames: int | None = None  # what ingest read from the header; the decoded length must match
    audio_problem: str | None = None  # ingest_issues kind when ingest found the audio unusable
    audio_message: str | None = None
    duration_s: float | None = None  # from ingest; orders files into batches
    start_s: float | None = None  # a span of the recording (utterance_spans): only it is read
    end_s: float | None = None


@dataclass
class _Loaded:
    utt: _Utterance
    samples: np.ndarray | None
    error: str | None
    load_s: float


@dataclass
class _LoadedBatch:
    items: list[_Loaded]
    prepared: object  # the recognizer's prepare_batch() of the readable items' samples


def load_utterances(engine: sa.Engine, *, dataset: str, normalizer: Normalizer,
                limit: int | None) -> list[_Utterance]:
    rows = query(engine, named_query("infer", "files_to_transcribe"), dataset=dataset, limit=limit)
    return [
        _Utterance(
            utt_id=row["utt_id"],
            ref_raw=normalizer.reference(transcript=row["transcript"],
                                         normalized=row["normalized_transcript"]),
            path=Path(row["root"]) / row["audio_path"],
            frames=row["frames"],
            audio_problem=row["audio_problem"],
            audio_message=row["audio_message"],
            duration_s=row["duration_s"],
            start_s=row["start_s"],
            end_s=row["end_s"],
        )
        for row in rows
    ]


class _Prefetcher:
    """Reads batches of files in a background thread, `depth` batches ahead (0: no thread).

    Each batch's files are read with `load` (in `workers` reader processes when > 0, else in
    the thread itself) and handed to `prepare` (the recognizer's host-side batch work) in the
    thread. Yields _LoadedBatch in the order of `batches`.
    """

    _DONE = object()

    def __init__(self, batches: Iterable[list[_Utterance]],
                 load: Callable[[_Utterance], _Loaded], *, depth: int = PREFETCH_FILES,
                 workers: int = 0, prepare: Callable[[list[_Loaded]], object] | None = None):
        self._batches = [list(batch) for batch in batches]
        self._load = load
        self._depth = depth
        self._workers = workers
        self._prepare = prepare or (lambda items: None)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="asrlens-prefetch", daemon=True)
        self._pool: ReaderPool | None = None

    def __enter__(self) -> Iterator[_LoadedBatch]:
        if self._depth < 1 and self._workers < 1:
            return (self._read(batch, map(self._load, batch)) for batch in self._batches)
        import torch

        self._caller_threads = torch.get_num_threads()  # fixes this thread's count first
        if self._workers > 0:  # forked here, before the reading and writing threads exist
            self._pool = ReaderPool(self._load, workers=self._workers, window=4 * self._workers)
        self._thread.start()
        return self._iterate()

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        while self._thread.is_alive():  # False when never started (depth 0)
            try:  # unblock a producer waiting on a full queue
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(timeout=0.05)
        if self._pool is not None:
            self._pool.close()

    def _read(self, batch: list[_Utterance], loaded: Iterator[_Loaded]) -> _LoadedBatch:
        items = [next(loaded) for _ in batch]
        return _LoadedBatch(items, self._prepare(items))

    def _iterate(self) -> Iterator[_LoadedBatch]:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _work(self) -> None:
        import torch

        # Resampling here uses one core and leaves the others to the recognizer; with torch's
        # default (all cores) it was 30x slower on a busy 2-core machine (BENCHMARKS.md).
        # torch's thread count is per thread once a thread has used torch (__enter__ makes sure
        # the calling thread has); the process-wide default for new threads is restored after.
        torch.set_num_threads(PREFETCH_TORCH_THREADS)
        try:
            self._produce()
        except BaseException as exc:  # noqa: BLE001 - raised in the consumer's thread
            if isinstance(exc, BrokenProcessPool):
                exc = AsrlensError(f"a reader process died ({exc}); rerun the same command "
                                   f"to resume, or use --read-workers 0")
            self._put(exc)
        finally:
            torch.set_num_threads(self._caller_threads)

    def _produce(self) -> None:
        files = [utt for batch in self._batches for utt in batch]
        loaded = self._pool.map(files) if self._pool else (self._load(utt) for utt in files)
        for batch in self._batches:
            if self._stop.is_set() or not self._put(self._read(batch, loaded)):
                return
        self._put(self._DONE)

    def _put(self, item) -> bool:
        """Queue item, waiting for room; False when the consumer stopped first."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


def _with_duration(utt: _Utterance) -> _Utterance:
    """utt with its duration from the file's header when ingest did not record one."""
    if utt.duration_s is not None:
        return utt
    import soundfile as sf

    try:
        return dataclasses.replace(utt, duration_s=sf.info(str(utt.path)).duration)
    except Exception:  # unreadable: it goes alone, and reading it records the error
        return utt


def _load(utt: _Utterance, sample_rate: int) -> _Loaded:
    """Read and resample one file; a failure becomes the file's error message."""
    from asrlens.audio import load_audio
    from asrlens.embedded import split_ref

    t0 = time.perf_counter()
    ref = split_ref(utt.path)  # audio embedded in a parquet file: that file must exist
    on_disk = utt.path if ref is None else ref[0]
    if not on_disk.exists():  # libsndfile would only say "System error"
        missing = next(p for p in [*reversed(on_disk.parents), on_disk] if not p.exists())
        what = "audio file" if missing == on_disk else "folder"
        return _Loaded(utt, None, f"{what} {missing} does not exist (moved or deleted?)",
                       time.perf_counter() - t0)
    try:
        samples, _ = load_audio(utt.path, sample_rate=sample_rate, complete=True,
                                expected_frames=utt.frames, start_s=utt.start_s,
                                end_s=utt.end_s)
    except AsrlensError as exc:
        return _Loaded(utt, None, str(exc), time.perf_counter() - t0)
    except Exception as exc:  # anything else that breaks on one file must not stop the run
        return _Loaded(utt, None, f"cannot read {utt.path}: {type(exc).__name__}: {exc}",
                       time.perf_counter() - t0)
    return _Loaded(utt, samples, None, time.perf_counter() - t0)
