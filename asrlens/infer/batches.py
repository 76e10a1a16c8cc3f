"""Pieces of the inference pipeline around the recognizer: batch plans, reader processes, writer.

    plan_batches(files, max_audio_s=640)      # length-sorted batches of files
    default_read_workers("cuda:0")            # reader processes for a device

The loop in run.py reads ahead (its _Prefetcher, using `ReaderPool` when reader processes
are asked for), runs the recognizer on one batch while the next is read, and hands the
results to a `Writer` thread that scores and stores them, so neither reading nor scoring
nor database writes stand between two batches on the device.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_READ_WORKERS = 8  # reader processes by default on a GPU (about 1,500 x real time each)
WRITER_QUEUE = 64  # batches of results waiting for the writer before the loop waits


class HasDuration(Protocol):
    duration_s: float | None


def plan_batches(files: Sequence[T], *, max_audio_s: float, alone_over_s: float = float("inf"),
                 duration: Callable[[T], float | None] = lambda f: f.duration_s,
                 ) -> list[list[T]]:
    """Files in batches whose padded length (files x longest) stays within max_audio_s.

    max_audio_s <= 0: one file per batch, in the given order (no sorting). Otherwise files
    are sorted longest first (so the largest batch comes first and padding is small), files
    longer than alone_over_s (chunked by the recognizer) or of unknown duration go alone.
    """
    if max_audio_s <= 0:
        return [[f] for f in files]
    known = [f for f in files if duration(f) is not None and duration(f) <= alone_over_s]
    alone = [f for f in files if duration(f) is None or duration(f) > alone_over_s]
    known.sort(key=lambda f: -duration(f))
    batches: list[list[T]] = [[f] for f in alone]
    current: list[T] = []
    for f in known:
        longest = duration(current[0]) if current else duration(f)
        if current and (len(current) + 1) * longest > max_audio_s:
            batches.append(current)
            current = []
        current.append(f)
    if current:
        batches.append(current)
    return batches


def default_read_workers(device: str) -> int:
    """Reader processes for a device: none on CPU (a thread reads ahead), up to 8 on a GPU."""
    if not str(device).startswith("cuda"):
        return 0
    return max(1, min(MAX_READ_WORKERS, (os.cpu_count() or 2) - 2))


class ReaderPool:
    """Maps `load` over items in worker processes, in order, at most `window` items ahead.

    Workers are forked where the platform allows (the parent's imports are reused; they use
    one torch thread each and never touch CUDA).
    """

    def __init__(self, load: Callable[[T], R], *, workers: int, window: int):
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                             initializer=_init_reader)
        self._load = load
        self._window = max(window, workers)
        self._executor.submit(int).result()  # start (fork) every worker now

    def map(self, items: Sequence[T]) -> Iterator[R]:
        pending: collections.deque[Future] = collections.deque()
        source = iter(items)
        for item in source:
            pending.append(self._executor.submit(self._load, item))
            if len(pending) >= self._window:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(source, None)
            if nxt is not None:
                pending.append(self._executor.submit(self._load, nxt))
            yield result

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def _init_reader() -> None:
    import torch

    torch.set_num_threads(1)  # resampling: one core per reader (see BENCHMARKS.md)


class Writer:
    """A thread that consumes result lists with `handle(results)`, in order.

    `put` raises the writer's own exception (a KeyboardInterrupt from a commit included) in
    the calling thread once the writer has stopped on one; `close` lets it finish what was
    put (drain=True) or only what it is doing, then re-raises such an exception.
    """

    _DONE = object()

    def __init__(self, handle: Callable[[list], None]):
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(maxsize=WRITER_QUEUE)
        self._abort = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="asrlens-writer", daemon=True)
        self._thread.start()

    def put(self, results: list) -> None:
        while True:
            self.raise_error()
            if not self._thread.is_alive():
                raise RuntimeError("the writer thread has stopped")
            try:
                self._queue.put(results, timeout=0.1)
                return
            except queue.Full:
                continue

    def raise_error(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def close(self, *, drain: bool = True) -> None:
        if not drain:
            self._abort.set()
        while self._thread.is_alive():
            try:
                self._queue.put(self._DONE, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join()

    def _work(self) -> None:
        try:
            while True:
                results = self._queue.get()
                if results is self._DONE or self._abort.is_set():
                    return
                self._handle(results)
        except BaseException as exc:  # noqa: BLE001 - handed to the loop's thread
            self.error = exc
