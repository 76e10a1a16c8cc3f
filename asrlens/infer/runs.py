"""The `runs` table: name, create, check, update and sum up a run of `asrlens infer`.

    stored = load_run(engine, "r")                  # the runs row as a dict, or None
    check_same_run(stored, dataset=..., ...)        # AsrlensError when settings differ
    result = run_result(engine, "r", "ds", files_done=3, ...)  # RunResult from run_summary

asrlens.infer.run orchestrates; these functions hold every read and write of a run's row.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa

from asrlens import defaults
from asrlens.db import insert_rows, named_query, query
from asrlens.errors import AsrlensError
from asrlens.fingerprint import store_fingerprint
from asrlens.infer.recognizers.base import Recognizer
from asrlens.owner import current_owner
from asrlens.scoring.align import DEFAULT_ALIGNMENT
from asrlens.scoring.normalize import DEFAULT_NORMALIZER, Normalizer
from asrlens.summaries import run_lines

VERSION_PACKAGES = ("asrlens", "torch", "torchaudio", "jiwer", "pocketsphinx", "duckdb", "numpy",
                    "faster-whisper", "ctranslate2", "whisper-normalizer")


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
    raw_wer: float | None = None  # under the minimal normalization (asrlens.raw_scores)
    files_rescored: int = 0
    files_unusable: int = 0

    def summary_lines(self) -> list[str]:
        """What `asrlens infer` prints (asrlens.summaries.run_lines)."""
        return run_lines(self)


def default_run_id(
    *, dataset: str, engine_name: str, model: str | None, precision: str | None,
    normalizer: str,
) -> str:
    """The run id used when none is given: 'DATASET:ENGINE[:MODEL][:PRECISION][:NORMALIZER]'.

    Parts at their defaults (model None, precision None or fp32, the default normalizer) are
    left out, so the same command always names the same run and re-running it resumes.
    """
    parts = [dataset, engine_name]
    if model:
        parts.append(model)
    if precision not in (None, defaults.PRECISION):
        parts.append(precision)
    if normalizer != DEFAULT_NORMALIZER:
        parts.append(normalizer)
    return ":".join(parts)


def check_dataset_folder(engine: sa.Engine, dataset: str) -> None:
    """Refuse to start when the dataset's folder is gone: every file would fail."""
    root = query(engine, named_query("infer", "dataset_root"), name=dataset)[0]["root"]
    if not Path(root).is_dir():
        raise AsrlensError(
            f"the folder of dataset {dataset!r} does not exist: {root} (moved or deleted?); "
            f"ingest it again from where it is now (asrlens ingest FOLDER --name {dataset}) "
            f"and run this again"
        )


def load_run(engine: sa.Engine, run_id: str) -> dict | None:
    rows = query(engine, named_query("infer", "load_run"), run_id=run_id)
    return rows[0] if rows else None


def check_same_run(stored: dict, *, dataset: str, engine_name: str, model: str | None,
                   precision: str | None, normalizer: Normalizer,
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


def create_run(engine: sa.Engine, *, run_id: str, dataset: str, recognizer: Recognizer,
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
        "started_at": utc_now(), "finished_at": None, "files_total": files_total,
        "audio_s": 0.0, "wall_s": 0.0, "alignment": alignment, **current_owner(),
    }
    with engine.begin() as conn:
        insert_rows(conn, "runs", [row])


def update_run(engine: sa.Engine, run_id: str, *, finished: bool = False, **columns) -> None:
    """Set the given columns of the run's row (the statement is built from their names, as
    db.insert_rows builds its own: the one statement of infer/ not kept in a .sql file)."""
    if finished:
        columns["finished_at"] = utc_now()
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with engine.begin() as conn:
        conn.execute(sa.text(f"update runs set {assignments} where run_id = :run_id"),
                     {**columns, "run_id": run_id})


def merge_devices(stored: str, current: str) -> str:
    """'cpu' + 'cuda' -> 'cpu,cuda': a run resumed on other hardware says so."""
    devices = stored.split(",")
    return stored if str(current) in devices else ",".join([*devices, str(current)])


def run_result(engine: sa.Engine, run_id: str, dataset: str, *, files_done: int,
               files_failed: int, files_skipped: int, already_finished: bool,
               files_rescored: int = 0, files_unusable: int = 0) -> RunResult:
    """What an infer call did, read back from the database; records the run's data
    fingerprint first (asrlens.fingerprint), as every call of infer ends here."""
    with engine.begin() as conn:
        store_fingerprint(conn, run_id)
    summary = query(engine, named_query("infer", "run_summary_row"), run_id=run_id)[0]
    failed = query(engine, named_query("infer", "failed_files"), run_id=run_id)
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


def json_column(value) -> dict:
    """A JSON column as a dict (duckdb-engine may hand it over as text)."""
    if value is None:
        return {}
    return value if isinstance(value, dict) else json.loads(value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def utc_now() -> datetime:
    """UTC now, naive (TIMESTAMP columns hold UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
