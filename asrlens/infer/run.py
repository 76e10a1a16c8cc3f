"""The inference loop: transcribe every file of a dataset, score it, store it batch by batch.

    engine = asrlens.db.connect("asrlens.duckdb")
    result = infer(engine, engine_name="pocketsphinx")        # run id 'DATASET:pocketsphinx'
    result.wer, result.failed                                  # corpus WER, [(utt_id, error)]

A run is resumable: results are committed every few files, each batch in one transaction, so
an interrupted run (Ctrl-C, a crash, a killed machine) holds only whole files. Calling `infer`
again with the same run id transcribes only the files without a stored transcript (files that
failed are retried); a finished run with nothing missing is not redone. Files whose reference
changed since they were scored are rescored without recognition, and files ingest found
corrupt or empty are recorded as skipped, never transcribed (asrlens.infer.refresh).

Reading and resampling the next files happens in a background thread (a small bounded
queue; on a GPU, in reader processes feeding it) while the recognizer works on the current
batch. Scoring and database writes happen in a writer thread. With `batch_audio_s` > 0 (the
default on a GPU) files are sorted by length, longest first, and recognized in zero-padded
batches of at most that many audio seconds; wav2vec2 gives each file of a batch what it gets
alone (see asrlens/infer/engines/exact_padding.py). On CPU files go one at a time, in
utt_id order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import platform
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import sqlalchemy as sa
from tqdm import tqdm

from asrlens.db import insert_rows, query, read_sql
from asrlens.errors import AsrlensError
from asrlens.health.owner import current_owner
from asrlens.infer.align import ALIGNMENTS, DEFAULT_ALIGNMENT
from asrlens.infer.batches import ReaderPool, Writer, default_read_workers, plan_batches
from asrlens.infer.engines import DEFAULT_ENGINE
from asrlens.infer.engines.base import Engine as Recognizer
from asrlens.infer.engines.base import Hypothesis
from asrlens.infer.normalize import DEFAULT_NORMALIZER, Normalizer, get_normalizer
from asrlens.infer.raw import score_raw
from asrlens.infer.refresh import Plan, apply_plan, plan_run, reference_hash, score_rows
from asrlens.infer.refresh import stored_transcripts as _stored_transcripts

BATCH_FILES = 8  # commit after this many files ...
BATCH_SECONDS = 10.0  # ... or after this many wall-clock seconds, whichever comes first
PREFETCH_FILES = 4  # files read and resampled ahead of the recognizer
PREFETCH_TORCH_THREADS = 1  # torch threads of the reading thread (resampling); see BENCHMARKS.md
VERSION_PACKAGES = ("asrlens", "torch", "torchaudio", "jiwer", "pocketsphinx", "duckdb", "numpy")
RESULT_TABLES = ("transcripts", "utterance_errors", "alignment_ops", "hyp_words")


@dataclass(frozen=True)
class RunResult:
    """What one `infer` call did, and the run's corpus figures after it (from run_summary).

    files_done / files_failed / files_skipped count this invocation only: transcribed and
    scored, recorded with an error, already scored by an earlier invocation. files_rescored:
    files of files_skipped scored again now because their reference changed since.
    files_unusable: the run's files not transcribed because ingest found their audio corrupt
    or empty (also in `failed`). `failed` lists every file of the run that holds an error
    now, as (utt_id, error). Rates are fractions, None when the run has nothing scored;
    audio_s and wall_s cover all invocations.
    """

    run_id: str
    dataset: str
    status: str
    files_total: int
    files_done: int
    files_failed: int
    files_skipped: int
    already_finished: bool
    files_scored: int
    wer: float | None
    mer: float | None
    wil: float | None
    cer: float | None
    audio_s: float
    wall_s: float
    real_time_factor: float | None
    failed: list[tuple[str, str]] = field(default_factory=list)
    strict_wer: float | None = None  # failed files' reference words counted as deletions
    raw_wer: float | None = None  # under the minimal normalization (asrlens.infer.raw)
    files_rescored: int = 0
    files_unusable: int = 0


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: whole files are committed and the run is marked 'interrupted'.

    A KeyboardInterrupt, so scripts still stop; `result` says how far the run got.
    """

    def __init__(self, result: RunResult):
        super().__init__(f"run {result.run_id} interrupted")
        self.result = result


class NothingScored(AsrlensError):
    """A run in which no file could be transcribed: it is marked 'failed'; `result` says more."""

    def __init__(self, result: RunResult):
        super().__init__(_why_nothing_scored(result))
        self.result = result


@dataclass(frozen=True)
class _Utterance:
    utt_id: str
    ref_raw: str
    path: Path
    frames: int | None = None  # what ingest read from the header; the decoded length must match
    audio_problem: str | None = None  # ingest_issues kind when ingest found the audio unusable
    audio_message: str | None = None
    duration_s: float | None = None  # from ingest; orders files into batches


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


def default_run_id(
    *, dataset: str, engine_name: str, model: str | None, precision: str, normalizer: str
) -> str:
    """The run id used when none is given: 'DATASET:ENGINE[:MODEL][:PRECISION][:NORMALIZER]'.

    Parts at their defaults (model None, fp32, the default normalizer) are left out, so the
    same command always names the same run and re-running it resumes.
    """
    parts = [dataset, engine_name]
    if model:
        parts.append(model)
    if precision != "fp32":
        parts.append(precision)
    if normalizer != DEFAULT_NORMALIZER:
        parts.append(normalizer)
    return ":".join(parts)


def infer(
    engine: sa.Engine,
    *,
    dataset: str | None = None,
    engine_name: str | None = None,
    model: str | None = None,
    checkpoint: str | None = None,
    device: str = "auto",
    precision: str | None = None,
    limit: int | None = None,
    run_id: str | None = None,
    normalizer: str | None = None,
    alignment: str | None = None,
    progress: bool = True,
    recognizer: Recognizer | None = None,
    batch_files: int = BATCH_FILES,
    batch_seconds: float = BATCH_SECONDS,
    prefetch_files: int = PREFETCH_FILES,
    batch_audio_s: float | None = None,
    read_workers: int | None = None,
    executor=None,
    **engine_options,
) -> RunResult:
    """Transcribe and score every file with audio of `dataset` (the first `limit` by utt_id).

    `engine` is the database (asrlens.db.connect). For a new run, settings left as None take
    their defaults (engine 'wav2vec2', the engine's default model, precision 'fp32',
    normalizer 'ljspeech', alignment 'unit', all files); when `run_id` names a stored run they
    are taken from it, so `infer(engine, run_id="r")` resumes run r as it was started. Settings
    given that differ from the stored run's (engine, model, precision, normalizer, alignment,
    checkpoint, dataset) raise AsrlensError. A larger `limit` extends a run. `alignment`
    'sclite' aligns words with sclite's costs (asrlens.infer.align). At the end of each call
    the scored files are also scored under the minimal normalization (asrlens.infer.raw).

    The recognizer is built with `asrlens.infer.engines.get_engine(engine_name, model=...,
    checkpoint=..., device=..., precision=..., **engine_options)` only when there is work to
    do; pass `recognizer` to use an already built one instead. Results are committed every
    `batch_files` files or `batch_seconds` seconds; `prefetch_files` files are read ahead in a
    background thread (0: read in the calling thread, no overlap). `batch_audio_s` bounds a
    recognizer batch in padded audio seconds (0: one file at a time; None: the recognizer's
    default, from the GPU's free memory, 0 on CPU); `read_workers` reader processes decode and
    resample (None: 0 on CPU, up to 8 on a GPU). With progress=True a tqdm bar
    (files, audio hours, real-time factor) and a few lines go to stderr.
    `executor` (asrlens.infer.ray_run.RayExecutor) builds the recognizer and runs the loop
    elsewhere (a Ray cluster); everything else is the same.
    Raises RunInterrupted (a KeyboardInterrupt) on Ctrl-C after marking the run interrupted.
    """
    started = time.perf_counter()
    if limit is not None and limit < 1:
        raise AsrlensError(f"--limit must be at least 1, got {limit}")
    if recognizer is not None:
        engine_name = recognizer.name
        model = model or recognizer.model
        precision = recognizer.precision
    stored = _load_run(engine, run_id) if run_id else None
    if stored is not None:
        stored_options = _json(stored["options"])
        engine_name = engine_name or stored["engine"]
        model = model or stored["model"]
        precision = precision or stored["precision"]
        normalizer = normalizer or stored["normalizer"]
        alignment = alignment or stored.get("alignment")
        dataset = dataset or stored["dataset"]
        checkpoint = checkpoint or stored_options.get("checkpoint_arg")
        limit = limit or stored_options.get("limit")
        engine_options = engine_options or stored_options.get("engine_options") or {}
    engine_name = engine_name or DEFAULT_ENGINE
    precision = precision or "fp32"
    norm = get_normalizer(normalizer or DEFAULT_NORMALIZER)
    alignment = alignment or DEFAULT_ALIGNMENT
    if alignment not in ALIGNMENTS:
        raise AsrlensError(f"unknown alignment {alignment!r}: choose one of "
                           f"{', '.join(ALIGNMENTS)}")
    dataset = _resolve_dataset(engine, dataset)
    if stored is None:
        run_id = run_id or default_run_id(
            dataset=dataset, engine_name=engine_name, model=model, precision=precision,
            normalizer=norm.name,
        )
        stored = _load_run(engine, run_id)
    if stored is not None:
        _check_same_run(stored, dataset=dataset, engine_name=engine_name, model=model,
                        precision=precision, normalizer=norm, alignment=alignment)

    utterances = _utterances(engine, dataset=dataset, normalizer=norm, limit=limit)
    if not utterances:
        raise AsrlensError(
            f"dataset {dataset!r} has no utterance with audio: check `asrlens sql "
            f"\"select * from ingest_issues where dataset = '{dataset}'\"`"
        )
    plan = plan_run(utterances, _stored_transcripts(engine, run_id))
    todo, skipped = plan.recognize, plan.recognized_before
    counts = {"files_rescored": len(plan.rescore), "files_unusable": plan.unusable}
    if not todo and stored is not None:
        if stored["status"] == "finished" and not plan.changes:
            return _result(engine, run_id, dataset, files_done=0, files_failed=0,
                           files_skipped=skipped, already_finished=True, **counts)
        _refresh(engine, run_id, plan, normalizer=norm, alignment=alignment, progress=progress)
        if stored["status"] != "finished":
            _update_run(engine, run_id, status="finished", finished=True,
                        files_total=len(utterances))
        return _result(engine, run_id, dataset, files_done=0, files_failed=0,
                       files_skipped=skipped, already_finished=False, **counts)

    _check_dataset_folder(engine, dataset)
    _say(progress, f"run {run_id}: {len(todo)} of {len(utterances)} files to transcribe"
                   + (f" ({skipped} already done)" if skipped else ""))
    if recognizer is None:
        from asrlens.infer.engines import get_engine  # looked up per call: tests replace it

        build = get_engine if executor is None else executor.recognizer
        recognizer = build(engine_name, model=model, checkpoint=checkpoint, device=device,
                           precision=precision, **engine_options)
    if batch_audio_s is None:
        batch_audio_s = recognizer.default_batch_audio_s()
    if read_workers is None:
        read_workers = default_read_workers(recognizer.device)
    options = {**recognizer.options(), "batch_audio_s": batch_audio_s,
               "read_workers": read_workers, "batch_files": batch_files,
               "batch_seconds": batch_seconds, "prefetch_files": prefetch_files, "limit": limit,
               "checkpoint_arg": checkpoint and str(Path(checkpoint).resolve()),
               "engine_options": engine_options}
    if stored is None:
        _create_run(engine, run_id=run_id, dataset=dataset, recognizer=recognizer,
                    normalizer=norm, options=options, files_total=len(utterances),
                    alignment=alignment)
    else:
        _check_same_run(stored, dataset=dataset, engine_name=recognizer.name,
                        model=recognizer.model, precision=recognizer.precision,
                        normalizer=norm, checkpoint_sha256=recognizer.checkpoint_sha256)
        device_used = _merge_devices(stored["device"], recognizer.device)
        _update_run(engine, run_id, status="running", files_total=len(utterances),
                    device=device_used, options=json.dumps(options), **current_owner())

    _refresh(engine, run_id, plan, normalizer=norm, alignment=alignment, progress=progress)
    wall_before = float(stored["wall_s"] or 0.0) if stored else 0.0
    make_loop = _Loop if executor is None else executor.loop
    loop = make_loop(engine, run_id=run_id, recognizer=recognizer, normalizer=norm,
                     alignment=alignment, batch_files=batch_files, batch_seconds=batch_seconds,
                     prefetch_files=prefetch_files, wall_before=wall_before, started=started,
                     batch_audio_s=batch_audio_s, read_workers=read_workers)
    try:
        loop.run(todo, progress=progress)
    except KeyboardInterrupt as exc:
        loop.finish(status="interrupted")
        result = _result(engine, run_id, dataset, files_done=loop.files_done,
                         files_failed=loop.files_failed, files_skipped=skipped,
                         already_finished=False, **counts)
        raise RunInterrupted(result) from exc
    except BaseException as exc:
        if not _is_database_error(exc):  # never write after the database failed
            with contextlib.suppress(Exception):  # the first error is the one to report
                loop.finish(status="failed")
        raise
    loop.finish(status="finished")
    result = _result(engine, run_id, dataset, files_done=loop.files_done,
                     files_failed=loop.files_failed, files_skipped=skipped,
                     already_finished=False, **counts)
    if result.files_scored == 0:
        _update_run(engine, run_id, status="failed", finished_at=None)
        raise NothingScored(replace(result, status="failed"))
    return result


def _refresh(engine: sa.Engine, run_id: str, plan: Plan, *, normalizer: Normalizer,
             alignment: str, progress: bool) -> None:
    """Rescore files whose reference changed and record unusable audio as skipped."""
    apply_plan(engine, run_id, plan, normalizer=normalizer, alignment=alignment)
    if plan.rescore:
        score_raw(engine, run_id)  # the raw scores follow the new reference too
        _say(progress, f"run {run_id}: rescored {len(plan.rescore)} files whose reference "
                       "changed since they were transcribed (no new recognition)")
    if plan.skip:
        _say(progress, f"run {run_id}: {len(plan.skip)} files not transcribed: ingest found "
                       "their audio corrupt or empty")


class _Loop:
    """Transcribe, score and commit; one instance per `infer` call."""

    def __init__(self, engine: sa.Engine, *, run_id: str, recognizer: Recognizer,
                 normalizer: Normalizer, batch_files: int, batch_seconds: float,
                 prefetch_files: int, wall_before: float, started: float,
                 alignment: str = DEFAULT_ALIGNMENT, batch_audio_s: float = 0.0,
                 read_workers: int = 0):
        self.engine = engine
        self.run_id = run_id
        self.recognizer = recognizer
        self.normalizer = normalizer
        self.alignment = alignment
        self.batch_files = max(1, batch_files)
        self.batch_seconds = batch_seconds
        self.prefetch_files = prefetch_files
        self.batch_audio_s = batch_audio_s
        self.read_workers = read_workers
        self.wall_before = wall_before
        self.started = started
        self.pending: list[dict] = []
        self.files_done = 0
        self.files_failed = 0

    def run(self, todo: list[_Utterance], *, progress: bool) -> None:
        """Read ahead, recognize batch by batch, score and commit in the writer thread.

        On the device batch k+1 is started before batch k's result is collected, so an
        asynchronous device (CUDA) is never left waiting for the host.
        """
        rate = self.recognizer.sample_rate
        chunk_s = self.recognizer.options().get("chunk_s") or float("inf")
        if self.batch_audio_s > 0:
            todo = [_with_duration(utt) for utt in todo]
        batches = plan_batches(todo, max_audio_s=self.batch_audio_s, alone_over_s=chunk_s)
        audio_s = 0.0
        self._last_commit = time.perf_counter()
        depth = self.prefetch_files if self.batch_audio_s <= 0 else min(self.prefetch_files, 2)
        with tqdm(total=len(todo), unit="file", desc=self.run_id, disable=not progress,
                  file=sys.stderr, dynamic_ncols=True) as bar, \
                _Prefetcher(batches, functools.partial(_load, sample_rate=rate), depth=depth,
                            workers=self.read_workers, prepare=self._prepare) as loaded:
            writer = Writer(self._store)
            started = None
            try:
                for batch in loaded:
                    current = self._start(batch)
                    previous, started = started, current
                    if previous is not None:
                        audio_s += self._hand_over(self._collect(previous), writer, bar, audio_s)
                if started is not None:
                    previous, started = started, None
                    audio_s += self._hand_over(self._collect(previous), writer, bar, audio_s)
            except BaseException as exc:
                _close_writer(writer, drain=True)
                if started is not None and isinstance(exc, KeyboardInterrupt):
                    # Ctrl-C while the next batch was read or started: keep the files of the
                    # batch already started (the writer is stopped: pending is ours now)
                    results, _audio_s = self._collect(started)
                    self.pending += [self._process(*result) for result in results]
                raise
            _close_writer(writer, drain=True)
        self.commit()

    def _prepare(self, items: list[_Loaded]):
        """The recognizer's host-side batch work, in the read-ahead thread."""
        samples = [item.samples for item in items if item.error is None]
        return self.recognizer.prepare_batch(samples) if samples else None

    def _start(self, batch: _LoadedBatch) -> tuple:
        """Start recognizing a batch; a failure to start is kept for `_collect`."""
        t0 = time.perf_counter()
        readable = [item for item in batch.items if item.error is None]
        handle = failure = None
        if readable:
            try:
                handle = self.recognizer.start_batch(batch.prepared)
            except Exception as exc:  # retried file by file in _collect
                failure = exc
        return batch, readable, handle, failure, t0

    def _collect(self, started: tuple) -> tuple[list[tuple], float]:
        """Wait for a started batch: [(item, hypothesis or error, compute_s)], its audio s."""
        batch, readable, handle, failure, t0 = started
        hypotheses: dict[int, Hypothesis | str] = {}
        if handle is not None:
            try:
                hypotheses = dict(zip(map(id, readable), handle.result(), strict=True))
            except Exception as exc:
                failure = exc
        if failure is not None:
            hypotheses = {id(item): self._recognize_alone(item, failure, len(readable))
                          for item in readable}
        elapsed = time.perf_counter() - t0
        rate = self.recognizer.sample_rate
        total = sum(len(item.samples) for item in readable) or 1
        results = []
        for item in batch.items:
            outcome = hypotheses.get(id(item))
            share = 0.0 if item.samples is None else elapsed * len(item.samples) / total
            results.append((item, outcome, item.load_s + share))
        return results, sum(len(item.samples) for item in readable) / rate

    def _hand_over(self, collected: tuple[list[tuple], float], writer: Writer, bar,
                   audio_before: float) -> float:
        """Queue a batch's results for the writer, move the progress bar; its audio s."""
        results, audio_s = collected
        writer.put(results)
        done = audio_before + audio_s
        wall = time.perf_counter() - self.started
        bar.set_postfix(audio_h=f"{done / 3600:.3f}", rtf=f"{wall / done:.3f}" if done else "-",
                        x_rt=f"{done / wall:.1f}" if wall else "-", refresh=False)
        bar.update(len(results))
        return audio_s

    def _recognize_alone(self, item: _Loaded, batch_error: Exception,
                         batch_size: int) -> Hypothesis | str:
        """One file of a failed batch on its own: its hypothesis, or its error message."""
        exc = batch_error
        if batch_size > 1:
            try:
                return self.recognizer.transcribe(item.samples)
            except Exception as own:  # a failing file is recorded and the run goes on
                exc = own
        return (f"{self.recognizer.name} failed on {item.utt.path}: "
                f"{type(exc).__name__}: {exc}")

    def _store(self, results: list[tuple]) -> None:
        """Writer thread: score a batch's results and commit every few files or seconds."""
        for item, outcome, compute_s in results:
            self.pending.append(self._process(item, outcome, compute_s))
        if (len(self.pending) >= self.batch_files
                or time.perf_counter() - self._last_commit >= self.batch_seconds):
            self.commit()
            self._last_commit = time.perf_counter()

    def _process(self, item: _Loaded, outcome: Hypothesis | str | None,
                 compute_s: float) -> dict:
        """Score one recognized file; an error (outcome str, or a read error) is recorded."""
        utt = item.utt
        hypothesis = outcome if isinstance(outcome, Hypothesis) else None
        error = item.error if item.error is not None else (
            outcome if isinstance(outcome, str) else None)
        if error is None and hypothesis is None:
            error = f"{self.recognizer.name} returned no result for {utt.path}"
        audio_s = None if item.samples is None else len(item.samples) / self.recognizer.sample_rate
        ref_norm = self.normalizer(utt.ref_raw)
        transcript = {
            "run_id": self.run_id, "utt_id": utt.utt_id, "ref_raw": utt.ref_raw,
            "ref_norm": ref_norm, "hyp_raw": None, "hyp_norm": None, "audio_s": audio_s,
            "compute_s": compute_s, "error": error, "created_at": _now(),
            "ref_sha256": reference_hash(utt.ref_raw), "rescored_at": None,
        }
        rows = {"transcript": transcript, "errors": None, "ops": [], "words": []}
        if error is not None:
            self.files_failed += 1
            return rows
        hyp_norm = self.normalizer(hypothesis.text)
        transcript.update(hyp_raw=hypothesis.text, hyp_norm=hyp_norm)
        rows["errors"], rows["ops"] = score_rows(self.run_id, utt.utt_id, ref_norm, hyp_norm,
                                                 alignment=self.alignment)
        keys = {"run_id": self.run_id, "utt_id": utt.utt_id}
        rows["words"] = [
            {**keys, "word_index": i, "word": w.word, "start_s": w.start_s, "end_s": w.end_s,
             "confidence": w.confidence}
            for i, w in enumerate(hypothesis.words)
        ]
        self.files_done += 1
        return rows

    def commit(self) -> None:
        """Store the pending files and the run's progress in one transaction."""
        if not self.pending:
            return
        ids = [rows["transcript"]["utt_id"] for rows in self.pending]
        with self.engine.begin() as conn:
            raw = conn.connection.driver_connection
            for table in RESULT_TABLES:  # a retried file replaces its earlier failure
                raw.execute(f"delete from {table} where run_id = ? and utt_id in "
                            "(select unnest(?))", [self.run_id, ids])
            insert_rows(conn, "transcripts", [r["transcript"] for r in self.pending])
            insert_rows(conn, "utterance_errors",
                        [r["errors"] for r in self.pending if r["errors"] is not None])
            insert_rows(conn, "alignment_ops", [op for r in self.pending for op in r["ops"]])
            insert_rows(conn, "hyp_words", [w for r in self.pending for w in r["words"]])
            self._update_progress(conn)
        self.pending = []

    def finish(self, *, status: str) -> None:
        """Commit what is whole and record the run's final status and wall time."""
        if status == "finished" or status == "interrupted":
            try:
                self.commit()
            except KeyboardInterrupt:  # a second Ctrl-C: the open batch was rolled back
                self.pending = []
        else:
            self.pending = []
        with self.engine.begin() as conn:
            self._update_progress(conn, status=status)
        if status != "failed":
            try:
                score_raw(self.engine, self.run_id)
            except KeyboardInterrupt:  # a second Ctrl-C: the next call or analyze adds them
                pass

    def _update_progress(self, conn: sa.Connection, *, status: str = "running") -> None:
        wall_s = self.wall_before + time.perf_counter() - self.started
        conn.execute(sa.text(read_sql("infer/update_run_progress.sql")), {
            "run_id": self.run_id, "status": status, "wall_s": wall_s,
            "finished_at": _now() if status == "finished" else None,
        })


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


def _close_writer(writer: Writer, *, drain: bool) -> None:
    """Let the writer finish (a second Ctrl-C stops it after its current batch)."""
    try:
        writer.close(drain=drain)
    except KeyboardInterrupt:
        writer.close(drain=False)
        raise
    writer.raise_error()


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

    t0 = time.perf_counter()
    if not utt.path.exists():  # libsndfile would only say "System error"
        missing = next(p for p in [*reversed(utt.path.parents), utt.path] if not p.exists())
        what = "audio file" if missing == utt.path else "folder"
        return _Loaded(utt, None, f"{what} {missing} does not exist (moved or deleted?)",
                       time.perf_counter() - t0)
    try:
        samples, _ = load_audio(utt.path, sample_rate=sample_rate, complete=True,
                                expected_frames=utt.frames)
    except AsrlensError as exc:
        return _Loaded(utt, None, str(exc), time.perf_counter() - t0)
    except Exception as exc:  # anything else that breaks on one file must not stop the run
        return _Loaded(utt, None, f"cannot read {utt.path}: {type(exc).__name__}: {exc}",
                       time.perf_counter() - t0)
    return _Loaded(utt, samples, None, time.perf_counter() - t0)


def _check_dataset_folder(engine: sa.Engine, dataset: str) -> None:
    """Refuse to start when the dataset's folder is gone: every file would fail."""
    root = query(engine, "select root from datasets where name = :name", name=dataset)[0]["root"]
    if not Path(root).is_dir():
        raise AsrlensError(
            f"the folder of dataset {dataset!r} does not exist: {root} (moved or deleted?); "
            f"ingest it again from where it is now (asrlens ingest FOLDER --name {dataset}) "
            f"and run this again"
        )


def _why_nothing_scored(result: RunResult) -> str:
    """One sentence: no file scored, and the commonest reason the files failed."""
    head = f"no file of run {result.run_id} could be transcribed"
    if not result.failed:
        return f"{head} (nothing was attempted)"
    error, n = Counter(error for _, error in result.failed).most_common(1)[0]
    example = next(utt_id for utt_id, e in result.failed if e == error)
    why = f"{n} of them with: {error}" if n > 1 else f"e.g. {example}: {error}"
    return (f"{head}: all {len(result.failed)} files failed, {why}; the run is marked failed "
            f"and `asrlens infer --run {result.run_id}` retries it")


def _is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.SQLAlchemyError | duckdb.Error)


def _resolve_dataset(engine: sa.Engine, dataset: str | None) -> str:
    names = [row["name"] for row in query(engine, "select name from datasets order by name")]
    if dataset is None:
        if len(names) == 1:
            return names[0]
        if not names:
            raise AsrlensError("the database holds no dataset: run `asrlens ingest DATASET` first")
        raise AsrlensError(f"the database holds {len(names)} datasets ({', '.join(names)}): "
                           "choose one with --dataset NAME")
    if dataset not in names:
        known = ", ".join(names) or "none"
        raise AsrlensError(f"no dataset {dataset!r} in the database (datasets: {known})")
    return dataset


def _utterances(engine: sa.Engine, *, dataset: str, normalizer: Normalizer,
                limit: int | None) -> list[_Utterance]:
    rows = query(engine, read_sql("infer/files_to_transcribe.sql"), dataset=dataset, limit=limit)
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
        )
        for row in rows
    ]


def _load_run(engine: sa.Engine, run_id: str) -> dict | None:
    rows = query(engine, "select * from runs where run_id = :run_id", run_id=run_id)
    return rows[0] if rows else None


def _check_same_run(stored: dict, *, dataset: str, engine_name: str, model: str | None,
                    precision: str, normalizer: Normalizer,
                    checkpoint_sha256: str | None = None, alignment: str | None = None) -> None:
    """Refuse to resume a run with settings that would change its transcripts or scores."""
    wanted = {"dataset": dataset, "engine": engine_name, "model": model,
              "precision": precision, "normalizer": normalizer.id,
              "checkpoint_sha256": checkpoint_sha256, "alignment": alignment}
    for column, value in wanted.items():
        if value is not None and stored.get(column) is not None and stored[column] != value:
            raise AsrlensError(
                f"run {stored['run_id']!r} was started with {column} {stored[column]!r}, not "
                f"{value!r}: resume it with the same settings, or start a new run with "
                f"--run NEW_NAME"
            )


def _create_run(engine: sa.Engine, *, run_id: str, dataset: str, recognizer: Recognizer,
                normalizer: Normalizer, options: dict, files_total: int,
                alignment: str = DEFAULT_ALIGNMENT) -> None:
    row = {
        "run_id": run_id, "dataset": dataset, "engine": recognizer.name,
        "model": recognizer.model,
        "checkpoint": None if recognizer.checkpoint is None else str(recognizer.checkpoint),
        "checkpoint_sha256": recognizer.checkpoint_sha256, "normalizer": normalizer.id,
        "reference_column": normalizer.reference_column, "device": str(recognizer.device),
        "precision": recognizer.precision, "options": json.dumps(options),
        "versions": json.dumps(library_versions()), "status": "running",
        "started_at": _now(), "finished_at": None, "files_total": files_total,
        "audio_s": 0.0, "wall_s": 0.0, "alignment": alignment, **current_owner(),
    }
    with engine.begin() as conn:
        insert_rows(conn, "runs", [row])


def _update_run(engine: sa.Engine, run_id: str, *, finished: bool = False, **columns) -> None:
    if finished:
        columns["finished_at"] = _now()
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with engine.begin() as conn:
        conn.execute(sa.text(f"update runs set {assignments} where run_id = :run_id"),
                     {**columns, "run_id": run_id})


def _merge_devices(stored: str, current: str) -> str:
    """'cpu' + 'cuda' -> 'cpu,cuda': a run resumed on other hardware says so."""
    devices = stored.split(",")
    return stored if str(current) in devices else ",".join([*devices, str(current)])


def _result(engine: sa.Engine, run_id: str, dataset: str, *, files_done: int,
            files_failed: int, files_skipped: int, already_finished: bool,
            files_rescored: int = 0, files_unusable: int = 0) -> RunResult:
    summary = query(engine, "select * from run_summary where run_id = :run_id", run_id=run_id)[0]
    failed = query(engine, "select utt_id, error from transcripts where run_id = :run_id "
                           "and error is not null order by utt_id", run_id=run_id)
    return RunResult(
        run_id=run_id, dataset=dataset, status=summary["status"],
        files_total=summary["files_total"] or 0, files_done=files_done,
        files_failed=files_failed, files_skipped=files_skipped,
        already_finished=already_finished, files_scored=summary["files_scored"],
        wer=_float(summary["wer"]), mer=_float(summary["mer"]), wil=_float(summary["wil"]),
        cer=_float(summary["cer"]), audio_s=float((summary["audio_hours"] or 0) * 3600),
        wall_s=float(summary["wall_s"] or 0), real_time_factor=_float(summary["real_time_factor"]),
        failed=[(row["utt_id"], row["error"]) for row in failed],
        strict_wer=_float(summary["strict_wer"]), raw_wer=_float(summary["raw_wer"]),
        files_rescored=files_rescored, files_unusable=files_unusable,
    )


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries that shape a run's results (None when not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in VERSION_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _json(value) -> dict:
    """A JSON column as a dict (duckdb-engine may hand it over as text)."""
    if value is None:
        return {}
    return value if isinstance(value, dict) else json.loads(value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def _now() -> datetime:
    """UTC now, naive (TIMESTAMP columns hold UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _say(progress: bool, message: str) -> None:
    if progress:
        tqdm.write(message, file=sys.stderr)
