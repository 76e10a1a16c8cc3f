"""The inference loop: recognize batch by batch, score in a writer thread, commit whole files.

    loop = Loop(engine, run_id="r", recognizer=rec, normalizer=norm, ...)
    loop.run(todo, progress=True)       # todo: [_Utterance], from asrlens.infer.readahead
    loop.finish(status="finished")      # commits what is whole, records status and wall time

Results are committed every few files, each batch in one transaction, so an interrupted run
holds only whole files. With `batch_audio_s` > 0 files are sorted by length, longest first,
and recognized in zero-padded batches of at most that many audio seconds.
"""

from __future__ import annotations

import functools
import sys
import time

import sqlalchemy as sa
from tqdm import tqdm

from asrlens.db import delete_rows, insert_rows, named_query
from asrlens.infer.batches import Writer, plan_batches
from asrlens.infer.readahead import (
    _load,
    _Loaded,
    _LoadedBatch,
    _Prefetcher,
    _Utterance,
    _with_duration,
)
from asrlens.infer.recognizers.base import Hypothesis, Recognizer
from asrlens.infer.refresh import RESULT_TABLES, reference_hash, score_rows
from asrlens.infer.runs import utc_now
from asrlens.raw_scores import score_raw
from asrlens.scoring.align import DEFAULT_ALIGNMENT
from asrlens.scoring.normalize import Normalizer


class Loop:
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
            "compute_s": compute_s, "error": error, "created_at": utc_now(),
            "ref_sha256": reference_hash(utt.ref_raw), "rescored_at": None,
        }
        rows = {"transcript": transcript, "errors": None, "ops": [], "words": [],
                "segments": []}
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
        rows["segments"] = [
            {**keys, "segment_index": i, "start_s": g.start_s, "end_s": g.end_s, "text": g.text,
             "avg_logprob": g.avg_logprob, "no_speech_prob": g.no_speech_prob,
             "compression_ratio": g.compression_ratio}
            for i, g in enumerate(hypothesis.segments)
        ]
        self.files_done += 1
        return rows

    def commit(self) -> None:
        """Store the pending files and the run's progress in one transaction."""
        if not self.pending:
            return
        ids = [rows["transcript"]["utt_id"] for rows in self.pending]
        with self.engine.begin() as conn:
            for table in RESULT_TABLES:  # a retried file replaces its earlier failure
                delete_rows(conn, table, run_id=self.run_id, utt_id=ids)
            insert_rows(conn, "transcripts", [r["transcript"] for r in self.pending])
            insert_rows(conn, "utterance_errors",
                        [r["errors"] for r in self.pending if r["errors"] is not None])
            insert_rows(conn, "alignment_ops", [op for r in self.pending for op in r["ops"]])
            insert_rows(conn, "hyp_words", [w for r in self.pending for w in r["words"]])
            insert_rows(conn, "hyp_segments",
                        [g for r in self.pending for g in r.get("segments", ())])
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
        conn.execute(sa.text(named_query("infer", "update_run_progress")), {
            "run_id": self.run_id, "status": status, "wall_s": wall_s,
            "finished_at": utc_now() if status == "finished" else None,
        })


def _close_writer(writer: Writer, *, drain: bool) -> None:
    """Let the writer finish (a second Ctrl-C stops it after its current batch)."""
    try:
        writer.close(drain=drain)
    except KeyboardInterrupt:
        writer.close(drain=False)
        raise
    writer.raise_error()
