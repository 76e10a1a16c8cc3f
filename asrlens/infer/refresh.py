"""Keep a run's stored results true to the dataset as ingested now, without new recognition.

    stored = stored_transcripts(engine, run_id)
    plan = plan_run(utterances, stored)       # what to recognize, rescore, record as skipped
    apply_plan(engine, run_id, plan, normalizer=norm)

Two things can make stored results wrong after a re-ingest, and both are settled per file:
- Its reference changed (a label was fixed): each transcript stores `ref_sha256`, the hash of
  the reference it was scored against; when the reference now hashes differently, the stored
  hypothesis is scored again against the new reference (utterance_errors and alignment_ops
  replaced, `rescored_at` set). The recognizer is not run again: its input did not change.
- Ingest found its audio corrupt or empty (kinds in UNUSABLE_AUDIO): the file is not
  transcribed and any scores it had are removed; its transcript row says why in `error`, so
  the file counts as failed, never silently dropped.
Files scored against an unchanged reference are left as they are (resume semantics).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa

from asrlens.db import delete_rows, insert_rows, named_query, query
from asrlens.scoring.align import DEFAULT_ALIGNMENT
from asrlens.scoring.normalize import Normalizer
from asrlens.scoring.score import score_texts

RESULT_TABLES = ("transcripts", "utterance_errors", "alignment_ops", "hyp_words", "hyp_segments")
"""A file's rows from recognition: a retried or skipped file's are deleted together."""

RESCORE_FILES = 5000
"""Files rescored at a time (their rows built, then replaced) when references changed."""

UNUSABLE_AUDIO = ("corrupt_audio", "empty_audio")
"""ingest_issues kinds whose files a run does not transcribe (see files_to_transcribe.sql)."""


class Utterance(Protocol):
    """What the plan needs of a run's file (asrlens.infer.readahead._Utterance)."""

    utt_id: str
    ref_raw: str
    audio_problem: str | None
    audio_message: str | None


@dataclass
class Plan:
    """What one `infer` call does with each of a run's files."""

    recognize: list = field(default_factory=list)  # no result yet, or an error to retry
    rescore: list = field(default_factory=list)    # scored against a reference changed since
    skip: list = field(default_factory=list)       # audio unusable, not yet recorded as skipped
    recognized_before: int = 0  # files with a stored hypothesis (rescored ones included)
    unusable: int = 0           # files skipped for unusable audio, now or before

    @property
    def changes(self) -> bool:
        """True when stored results change without recognition (rescore or skip)."""
        return bool(self.rescore or self.skip)


def reference_hash(ref_raw: str | None) -> str | None:
    """sha256 (hex) of a reference as read from the labels (transcripts.ref_sha256)."""
    return None if ref_raw is None else hashlib.sha256(ref_raw.encode("utf-8")).hexdigest()


def skip_message(utt: Utterance) -> str:
    """transcripts.error of a file not transcribed because ingest found its audio unusable."""
    return (f"not transcribed: ingest found the audio unusable ({utt.audio_problem}: "
            f"{utt.audio_message}); fix the file and run `asrlens ingest` again")


def stored_transcripts(engine: sa.Engine, run_id: str) -> dict[str, dict]:
    """utt_id -> {error, ref_raw, ref_sha256} of every transcript stored for the run."""
    rows = query(engine, named_query("infer", "stored_transcripts"), run_id=run_id)
    return {row["utt_id"]: row for row in rows}


def plan_run(utterances: list[Utterance], stored: dict[str, dict]) -> Plan:
    """Sort a run's files into recognize / rescore / skip / leave alone (see the module doc)."""
    plan = Plan()
    for utt in utterances:
        row = stored.get(utt.utt_id)
        if utt.audio_problem is not None:
            plan.unusable += 1
            if row is None or row["error"] != skip_message(utt):
                plan.skip.append(utt)
        elif row is None or row["error"] is not None:
            plan.recognize.append(utt)
        else:
            plan.recognized_before += 1
            scored_against = row["ref_sha256"] or reference_hash(row["ref_raw"])
            if scored_against != reference_hash(utt.ref_raw):
                plan.rescore.append(utt)
    return plan


def score_rows(run_id: str, utt_id: str, ref_norm: str, hyp_norm: str, *,
               alignment: str = DEFAULT_ALIGNMENT) -> tuple[dict, list]:
    """The utterance_errors row and the alignment_ops rows of one scored file."""
    score = score_texts(ref_norm, hyp_norm, alignment=alignment)
    keys = {"run_id": run_id, "utt_id": utt_id}
    return {**keys, **score.counts()}, score.op_rows(**keys)


def apply_plan(engine: sa.Engine, run_id: str, plan: Plan, *, normalizer: Normalizer,
               alignment: str = DEFAULT_ALIGNMENT) -> None:
    """Rescore and record skipped files in one transaction; runs.audio_s follows."""
    if not plan.changes:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for start in range(0, len(plan.rescore), RESCORE_FILES):  # memory stays flat
            _rescore(conn, run_id, plan.rescore[start:start + RESCORE_FILES],
                     normalizer=normalizer, alignment=alignment, now=now)
        if plan.skip:
            ids = [utt.utt_id for utt in plan.skip]
            for table in RESULT_TABLES:
                delete_rows(conn, table, run_id=run_id, utt_id=ids)
            insert_rows(conn, "transcripts", [
                {"run_id": run_id, "utt_id": utt.utt_id, "ref_raw": utt.ref_raw,
                 "ref_norm": normalizer(utt.ref_raw), "hyp_raw": None, "hyp_norm": None,
                 "audio_s": None, "compute_s": 0.0, "error": skip_message(utt),
                 "created_at": now, "ref_sha256": reference_hash(utt.ref_raw),
                 "rescored_at": None}
                for utt in plan.skip
            ])
        conn.execute(sa.text(named_query("infer", "update_run_audio")), {"run_id": run_id})


def _rescore(conn: sa.Connection, run_id: str, utterances: list[Utterance], *,
             normalizer: Normalizer, alignment: str, now: datetime) -> None:
    ids = [utt.utt_id for utt in utterances]
    hyps = {row["utt_id"]: row["hyp_norm"] for row in query(
        conn, named_query("infer", "hypotheses_of_files"), run_id=run_id, utt_ids=ids)}
    errors, ops, updates = [], [], []
    for utt in utterances:
        ref_norm = normalizer(utt.ref_raw)
        counts, file_ops = score_rows(run_id, utt.utt_id, ref_norm, hyps[utt.utt_id] or "",
                                      alignment=alignment)
        errors.append(counts)
        ops += file_ops
        updates.append((utt.utt_id, utt.ref_raw, ref_norm, reference_hash(utt.ref_raw)))
    for table in ("utterance_errors", "alignment_ops"):
        delete_rows(conn, table, run_id=run_id, utt_id=ids)
    insert_rows(conn, "utterance_errors", errors)
    insert_rows(conn, "alignment_ops", ops)
    utt_ids, refs, norms, hashes = (list(column) for column in zip(*updates, strict=True))
    conn.execute(sa.text(named_query("infer", "rescore_references")), {
        "run_id": run_id, "rescored_at": now, "utt_ids": utt_ids, "ref_raws": refs,
        "ref_norms": norms, "ref_sha256s": hashes})
