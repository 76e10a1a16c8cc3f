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

The jobs live in their own modules: the `runs` table in asrlens.infer.runs, the read-ahead
(reading and resampling the next files in a background thread, on a GPU in reader processes)
in asrlens.infer.readahead, and the loop that recognizes, scores and commits (database writes
in a writer thread) in asrlens.infer.loop; this module puts them in order.

With `batch_audio_s` > 0 (the default on a GPU) files are sorted by length, longest first,
and recognized in zero-padded batches of at most that many audio seconds; wav2vec2 gives each
file of a batch what it gets alone (see asrlens/infer/recognizers/exact_padding.py). On CPU
files go one at a time, in utt_id order.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import sqlalchemy as sa
from tqdm import tqdm

from asrlens import defaults
from asrlens.catalog import missing_labels, resolve_dataset
from asrlens.errors import AsrlensError
from asrlens.infer.batches import default_read_workers
from asrlens.infer.loop import Loop
from asrlens.infer.readahead import PREFETCH_FILES, PREFETCH_TORCH_THREADS, load_utterances
from asrlens.infer.recognizers import DEFAULT_ENGINE
from asrlens.infer.recognizers.base import Recognizer
from asrlens.infer.refresh import Plan, apply_plan, plan_run, stored_transcripts
from asrlens.infer.runs import (
    RunResult,
    check_dataset_folder,
    check_same_run,
    create_run,
    default_run_id,
    json_column,
    library_versions,
    load_run,
    merge_devices,
    run_result,
    update_run,
)
from asrlens.owner import current_owner
from asrlens.raw_scores import score_raw
from asrlens.scoring.align import ALIGNMENTS
from asrlens.scoring.normalize import Normalizer, get_normalizer

BATCH_FILES = defaults.BATCH_FILES  # commit after this many files ...
BATCH_SECONDS = 10.0  # ... or after this many wall-clock seconds, whichever comes first

__all__ = [  # RunResult, default_run_id, library_versions and PREFETCH_*: imported from here too
    "BATCH_FILES", "BATCH_SECONDS", "PREFETCH_FILES", "PREFETCH_TORCH_THREADS", "NothingScored",
    "RunInterrupted", "RunResult", "default_run_id", "infer", "library_versions",
]


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


def infer(
    engine: sa.Engine,
    *,
    dataset: str | None = None,
    engine_name: str | None = None,
    model: str | None = None,
    checkpoint: str | None = None,
    device: str = defaults.DEVICE,
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
    ray: str | None = None,
    executor=None,
    **engine_options,
) -> RunResult:
    """Transcribe and score every file with audio of `dataset` (the first `limit` by utt_id).

    `engine` is the database (asrlens.db.connect). For a new run, settings left as None take
    their defaults (engine 'wav2vec2', the engine's default model and precision (fp32; whisper:
    int8 on CPU, fp16 on a GPU), normalizer 'ljspeech', alignment 'unit', all files); when
    `run_id` names a stored run they are taken from it, so `infer(engine, run_id="r")` resumes
    run r as it was started. Settings given that differ from the stored run's (engine, model,
    precision, normalizer, alignment, checkpoint, dataset) raise AsrlensError. A larger
    `limit` extends a run. `alignment` 'sclite' aligns words with sclite's costs
    (asrlens.scoring.align). At the end of each call the scored files are also scored under
    the minimal normalization (asrlens.raw_scores).

    The recognizer is built with `asrlens.infer.recognizers.get_recognizer(engine_name, model=...,
    checkpoint=..., device=..., precision=..., **engine_options)` only when there is work to
    do; pass `recognizer` to use an already built one instead. Results are committed every
    `batch_files` files or `batch_seconds` seconds; `prefetch_files` files are read ahead in a
    background thread (0: read in the calling thread, no overlap). `batch_audio_s` bounds a
    recognizer batch in padded audio seconds (0: one file at a time; None: the recognizer's
    default, from the GPU's free memory, 0 on CPU); `read_workers` reader processes decode and
    resample (None: 0 on CPU, up to 8 on a GPU). With progress=True a tqdm bar
    (files, audio hours, real-time factor) and a few lines go to stderr.
    `ray` runs the recognizer on a Ray cluster at that address ('local': one started on this
    machine), through asrlens.infer.ray_run.RayExecutor; or pass such an `executor` yourself.
    Everything else is the same.
    Raises RunInterrupted (a KeyboardInterrupt) on Ctrl-C after marking the run interrupted.
    """
    started = time.perf_counter()
    if ray is not None and executor is None:  # before anything is stored: Ray may be missing
        from asrlens.infer.ray_run import RayExecutor

        executor = RayExecutor(ray)
    s = run_settings(engine, recognizer=recognizer, run_id=run_id, dataset=dataset,
                     engine_name=engine_name, model=model, checkpoint=checkpoint,
                     precision=precision, normalizer=normalizer, alignment=alignment,
                     limit=limit, engine_options=engine_options)
    utterances = load_utterances(engine, dataset=s.dataset, normalizer=s.normalizer,
                                 limit=s.limit)
    if not utterances:
        raise missing_labels(engine, s.dataset) or AsrlensError(
            f"dataset {s.dataset!r} has no utterance with audio: check `asrlens sql "
            f"\"select * from ingest_issues where dataset = '{s.dataset}'\"`"
        )
    plan = plan_run(utterances, stored_transcripts(engine, s.run_id))
    counts = {"files_skipped": plan.recognized_before, "files_rescored": len(plan.rescore),
              "files_unusable": plan.unusable}
    if not plan.recognize and s.stored is not None:
        return _finish_without_recognizing(engine, s, plan, len(utterances), counts, progress)

    check_dataset_folder(engine, s.dataset)
    _say(progress, f"run {s.run_id}: {len(plan.recognize)} of {len(utterances)} files to "
                   f"transcribe" + (f" ({plan.recognized_before} already done)"
                                    if plan.recognized_before else ""))
    recognizer = recognizer or _build_recognizer(s, device=device, executor=executor)
    if batch_audio_s is None:
        batch_audio_s = recognizer.default_batch_audio_s()
    recognizer.use_batches(batch_audio_s)
    if read_workers is None:
        read_workers = default_read_workers(recognizer.device)
    options = {**recognizer.options(), "batch_audio_s": batch_audio_s,
               "read_workers": read_workers, "batch_files": batch_files,
               "batch_seconds": batch_seconds, "prefetch_files": prefetch_files,
               "limit": s.limit, "checkpoint_arg": s.checkpoint_arg(),
               "engine_options": s.engine_options}
    _start_run(engine, s, recognizer, options, files_total=len(utterances))
    _refresh(engine, s.run_id, plan, normalizer=s.normalizer, alignment=s.alignment,
             progress=progress)
    make_loop = Loop if executor is None else executor.loop
    loop = make_loop(engine, run_id=s.run_id, recognizer=recognizer, normalizer=s.normalizer,
                     alignment=s.alignment, batch_files=batch_files,
                     batch_seconds=batch_seconds, prefetch_files=prefetch_files,
                     wall_before=float(s.stored["wall_s"] or 0.0) if s.stored else 0.0,
                     started=started, batch_audio_s=batch_audio_s, read_workers=read_workers)
    return _run_loop(engine, loop, s, plan.recognize, counts, progress)


@dataclass(frozen=True)
class RunSettings:
    """A run's settings after the one merge (run_settings): what infer() goes by."""

    run_id: str
    dataset: str
    engine_name: str
    model: str | None
    checkpoint: str | None
    precision: str | None  # None: the engine's default (fp32; whisper: int8 or fp16)
    normalizer: Normalizer
    alignment: str
    limit: int | None
    engine_options: dict
    stored: dict | None  # the runs row of a run being resumed, or None

    def checkpoint_arg(self) -> str | None:
        """The --checkpoint given, as an absolute path (runs.options.checkpoint_arg)."""
        return self.checkpoint and str(Path(self.checkpoint).resolve())


def run_settings(engine: sa.Engine, *, recognizer: Recognizer | None, run_id: str | None,
                 **given) -> RunSettings:
    """Each setting from, in order: the `recognizer` given (engine, precision, model), the
    arguments given, the stored run (when `run_id` names one), then the defaults. The stored
    run is loaded once and checked against the result (AsrlensError when they differ)."""
    if given["limit"] is not None and given["limit"] < 1:
        raise AsrlensError(f"--limit must be at least 1, got {given['limit']}")
    if recognizer is not None:
        given.update(engine_name=recognizer.name, model=given["model"] or recognizer.model,
                     precision=recognizer.precision)
    stored = load_run(engine, run_id) if run_id else None
    merged = {**_stored_settings(stored), **{k: v for k, v in given.items() if v}}
    merged.setdefault("engine_name", DEFAULT_ENGINE)
    normalizer = get_normalizer(merged.pop("normalizer", defaults.NORMALIZER))
    normalizer.require()  # a normalizer whose package is missing stops here, before anything
    alignment = merged.pop("alignment", None) or defaults.ALIGNMENT
    if alignment not in ALIGNMENTS:
        raise AsrlensError(f"unknown alignment {alignment!r}: choose one of "
                           f"{', '.join(ALIGNMENTS)}")
    dataset = resolve_dataset(engine, merged.pop("dataset", None))
    if run_id is None:
        run_id = default_run_id(dataset=dataset, engine_name=merged["engine_name"],
                                model=merged.get("model"), precision=merged.get("precision"),
                                normalizer=normalizer.name)
        stored = load_run(engine, run_id)
        if stored is not None:  # the same command again: its engine's default precision
            merged["precision"] = merged.get("precision") or stored["precision"]
    settings = RunSettings(run_id=run_id, dataset=dataset, normalizer=normalizer,
                           alignment=alignment, stored=stored,
                           engine_name=merged["engine_name"], model=merged.get("model"),
                           checkpoint=merged.get("checkpoint"),
                           precision=merged.get("precision"),
                           limit=merged.get("limit"),
                           engine_options=merged.get("engine_options") or {})
    if stored is not None:
        check_same_run(stored, dataset=dataset, engine_name=settings.engine_name,
                       model=settings.model, precision=settings.precision,
                       normalizer=normalizer, alignment=alignment)
    return settings


def _stored_settings(stored: dict | None) -> dict:
    """The settings a stored run was started with (those it has), by infer()'s names."""
    if stored is None:
        return {}
    options = json_column(stored["options"])
    found = {"engine_name": stored["engine"], "model": stored["model"],
             "precision": stored["precision"], "normalizer": stored["normalizer"],
             "alignment": stored.get("alignment"), "dataset": stored["dataset"],
             "checkpoint": options.get("checkpoint_arg"), "limit": options.get("limit"),
             "engine_options": options.get("engine_options")}
    return {key: value for key, value in found.items() if value}


def _build_recognizer(s: RunSettings, *, device: str, executor) -> Recognizer:
    from asrlens.infer.recognizers import get_recognizer  # looked up per call: tests replace it

    build = get_recognizer if executor is None else executor.recognizer
    return build(s.engine_name, model=s.model, checkpoint=s.checkpoint, device=device,
                 precision=s.precision, **s.engine_options)


def _start_run(engine: sa.Engine, s: RunSettings, recognizer: Recognizer, options: dict, *,
               files_total: int) -> None:
    """Create the run's row, or mark a stored run running again on this recognizer."""
    if s.stored is None:
        create_run(engine, run_id=s.run_id, dataset=s.dataset, recognizer=recognizer,
                   normalizer=s.normalizer, options=options, files_total=files_total,
                   alignment=s.alignment)
        return
    check_same_run(s.stored, dataset=s.dataset, engine_name=recognizer.name,
                   model=recognizer.model, precision=recognizer.precision,
                   normalizer=s.normalizer, checkpoint_sha256=recognizer.checkpoint_sha256)
    update_run(engine, s.run_id, status="running", files_total=files_total,
               device=merge_devices(s.stored["device"], recognizer.device),
               options=json.dumps(options), **current_owner())


def _finish_without_recognizing(engine: sa.Engine, s: RunSettings, plan: Plan,
                                files_total: int, counts: dict, progress: bool) -> RunResult:
    """A stored run with no file left to recognize: rescore what changed and finish it."""
    if s.stored["status"] == "finished" and not plan.changes:
        return run_result(engine, s.run_id, s.dataset, files_done=0, files_failed=0,
                          already_finished=True, **counts)
    _refresh(engine, s.run_id, plan, normalizer=s.normalizer, alignment=s.alignment,
             progress=progress)
    if s.stored["status"] != "finished":
        update_run(engine, s.run_id, status="finished", finished=True, files_total=files_total)
    return run_result(engine, s.run_id, s.dataset, files_done=0, files_failed=0,
                      already_finished=False, **counts)


def _run_loop(engine: sa.Engine, loop, s: RunSettings, todo: list, counts: dict,
              progress: bool) -> RunResult:
    """Recognize `todo` with `loop`, mark the run, and sum it up (RunInterrupted on Ctrl-C,
    NothingScored when no file of the run is scored)."""
    try:
        loop.run(todo, progress=progress)
    except KeyboardInterrupt as exc:
        loop.finish(status="interrupted")
        raise RunInterrupted(_loop_result(engine, loop, s, counts)) from exc
    except BaseException as exc:
        if not _is_database_error(exc):  # never write after the database failed
            with contextlib.suppress(Exception):  # the first error is the one to report
                loop.finish(status="failed")
        raise
    loop.finish(status="finished")
    result = _loop_result(engine, loop, s, counts)
    if result.files_scored == 0:
        update_run(engine, s.run_id, status="failed", finished_at=None)
        raise NothingScored(replace(result, status="failed"))
    return result


def _loop_result(engine: sa.Engine, loop, s: RunSettings, counts: dict) -> RunResult:
    return run_result(engine, s.run_id, s.dataset, files_done=loop.files_done,
                      files_failed=loop.files_failed, already_finished=False, **counts)


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


def _say(progress: bool, message: str) -> None:
    if progress:
        tqdm.write(message, file=sys.stderr)

