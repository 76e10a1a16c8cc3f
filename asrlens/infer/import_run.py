"""Import another recognizer's hypotheses as a run of an ingested dataset.

    result = import_run(engine, "whisper.csv", dataset="ljspeech-sample", run_id="whisper")
    result.files_scored, result.issues            # what matched, what could not be used

Each line of the file (asrlens.infer.hypfile) names an utterance by its id or by its audio
path: the path relative to the dataset root, an absolute path under it, or only the file
name or its stem when that names one utterance (a NeMo manifest made on another machine).
The run covers every utterance with audio, plus any other utterance a line names. Each
covered utterance gets a `transcripts` row; one without a hypothesis is recorded with its
error set (it counts in run_summary.strict_wer with all its words deleted). Lines that name
no utterance, repeat one, or cannot be parsed go to `import_issues`; nothing is dropped
silently. The hypotheses are normalized and scored as `asrlens infer` scores its own
(same normalizers, same alignment modes, raw scores too), and `runs` records the file
(source_path, source_format) with engine 'import'.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import sqlalchemy as sa

from asrlens.catalog import resolve_dataset
from asrlens.db import delete_rows, insert_rows, named_query, query
from asrlens.errors import AsrlensError
from asrlens.fingerprint import store_fingerprint
from asrlens.infer.hypfile import read_hypotheses
from asrlens.infer.runs import library_versions, utc_now
from asrlens.raw_scores import score_raw
from asrlens.scoring.align import ALIGNMENTS, DEFAULT_ALIGNMENT
from asrlens.scoring.normalize import DEFAULT_NORMALIZER, get_normalizer
from asrlens.scoring.score import score_texts
from asrlens.summaries import import_lines

ENGINE_NAME = "import"
"""runs.engine of an imported run."""
NO_DEVICE = "none"
"""runs.device and runs.precision of an imported run (asrlens ran no model)."""
FLUSH_FILES = 2000
"""Files whose rows (about 25 each) are inserted at a time: memory does not grow with the run."""


@dataclass(frozen=True)
class ImportIssue:
    """One row of import_issues."""

    kind: str  # 'unmatched', 'duplicate', 'bad_line', 'no_hypothesis'
    line: int | None
    key: str | None
    message: str


@dataclass(frozen=True)
class ImportResult:
    """What `import_run` stored: counts, the run's corpus figures, every issue."""

    run_id: str
    dataset: str
    path: Path
    fmt: str
    lines: int  # hypotheses read from the file
    files_total: int  # utterances the run covers
    files_scored: int
    files_without_hypothesis: int
    matched_by: dict[str, int]  # 'id', 'path', 'file name', 'stem' -> lines matched so
    wer: float | None
    strict_wer: float | None
    raw_wer: float | None
    issues: list[ImportIssue] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """What `asrlens import-run` prints (asrlens.summaries.import_lines)."""
        return import_lines(self)


def import_run(
    engine: sa.Engine,
    path: str | Path,
    *,
    dataset: str | None = None,
    run_id: str | None = None,
    fmt: str = "auto",
    normalizer: str | None = None,
    alignment: str | None = None,
    model: str | None = None,
    replace: bool = False,
) -> ImportResult:
    """Import hypothesis file `path` as run `run_id` (default: the file's stem) of `dataset`
    (default: the only one). `model` labels the run (default: the file name). An existing run
    of that name is refused unless `replace` is set and it was itself imported. Raises
    AsrlensError when the file cannot be read or no line names an utterance; nothing is
    stored then."""
    path = Path(path)
    if not path.is_file():  # before the run name is looked up: a typo is not a clash
        raise AsrlensError(f"file not found: {path}" if not path.exists()
                           else f"{path} is not a file")
    norm = get_normalizer(normalizer or DEFAULT_NORMALIZER)
    norm.require()
    alignment = alignment or DEFAULT_ALIGNMENT
    if alignment not in ALIGNMENTS:
        raise AsrlensError(f"unknown alignment {alignment!r}: choose one of "
                           f"{', '.join(ALIGNMENTS)}")
    dataset = resolve_dataset(engine, dataset)
    run_id = run_id or path.stem
    _check_replace(engine, run_id, replace)
    parsed = read_hypotheses(path, fmt=fmt)
    utterances = query(engine, named_query("infer", "import_utterances"), dataset=dataset)
    matcher = _Matcher(utterances)

    issues = [ImportIssue("bad_line", line, key, message)
              for line, key, message in parsed.problems]
    hypotheses: dict[str, str] = {}
    first_line: dict[str, int] = {}
    matched_by: Counter[str] = Counter()
    for hyp in parsed.lines:
        utt_id, how = matcher.match(hyp.key)
        if utt_id is None:
            issues.append(ImportIssue("unmatched", hyp.line, hyp.key, how))
        elif utt_id in hypotheses:
            issues.append(ImportIssue("duplicate", hyp.line, hyp.key,
                                      f"second hypothesis for {utt_id} (line "
                                      f"{first_line[utt_id]} is kept)"))
        else:
            hypotheses[utt_id] = hyp.text
            first_line[utt_id] = hyp.line
            matched_by[how] += 1
    if not hypotheses:
        keys = ", ".join(h.key for h in parsed.lines[:3]) or "none"
        raise AsrlensError(f"no line of {path} names an utterance of dataset {dataset!r} "
                           f"({len(parsed.lines)} {parsed.fmt} lines; first keys: {keys})")

    covered = [u for u in utterances if u["audio_path"] is not None or u["utt_id"] in hypotheses]
    source = str(path.resolve())
    now = utc_now()
    missing = [u["utt_id"] for u in covered if u["utt_id"] not in hypotheses]
    issues += [ImportIssue("no_hypothesis", None, utt_id, _no_hypothesis(utt_id, path))
               for utt_id in missing]
    run_row = {
        "run_id": run_id, "dataset": dataset, "engine": ENGINE_NAME, "model": model or path.name,
        "checkpoint": None, "checkpoint_sha256": None, "normalizer": norm.id,
        "reference_column": norm.reference_column, "device": NO_DEVICE, "precision": NO_DEVICE,
        "options": json.dumps({"format": parsed.fmt, "lines": len(parsed.lines),
                               "matched_by": dict(matched_by),
                               "issues": dict(Counter(i.kind for i in issues))}),
        "versions": json.dumps(library_versions()), "status": "finished",
        "started_at": now, "finished_at": now, "files_total": len(covered),
        "audio_s": sum(u["duration_s"] or 0.0 for u in covered if u["utt_id"] in hypotheses),
        "wall_s": None, "alignment": alignment,
        "source_path": source, "source_format": parsed.fmt,
    }
    with engine.begin() as conn:  # one transaction: all of the run or nothing
        if replace:
            _delete_run(conn, run_id)
        insert_rows(conn, "runs", [run_row])
        rows = _Rows(run_id, now)
        for utt in covered:
            ref_raw = norm.reference(transcript=utt["transcript"],
                                     normalized=utt["normalized_transcript"])
            hyp = hypotheses.get(utt["utt_id"])
            rows.add(utt, ref_raw=ref_raw, ref_norm=norm(ref_raw), hyp_raw=hyp,
                     hyp_norm=None if hyp is None else norm(hyp), alignment=alignment,
                     missing=None if hyp is not None else _no_hypothesis(utt["utt_id"], path))
            if rows.files >= FLUSH_FILES:  # memory stays flat: rows go to DuckDB in batches
                rows.store(conn)
        rows.store(conn)
        insert_rows(conn, "import_issues", [
            {"run_id": run_id, "kind": i.kind, "line": i.line, "key": i.key,
             "message": i.message} for i in issues])
        score_raw(conn, run_id)
        store_fingerprint(conn, run_id)
    summary = query(engine, named_query("infer", "run_summary_row"), run_id=run_id)[0]
    return ImportResult(
        run_id=run_id, dataset=dataset, path=path, fmt=parsed.fmt, lines=len(parsed.lines),
        files_total=len(covered), files_scored=len(covered) - len(missing),
        files_without_hypothesis=len(missing), matched_by=dict(matched_by),
        wer=_float(summary["wer"]), strict_wer=_float(summary["strict_wer"]),
        raw_wer=_float(summary["raw_wer"]), issues=issues,
    )


class _Matcher:
    """Finds the utterance a line's key names: id, relative or absolute path, name, stem."""

    def __init__(self, utterances: list[dict]):
        self.ids = {u["utt_id"] for u in utterances}
        self.paths: dict[str, str] = {}
        names: dict[str, list[str]] = {}
        stems: dict[str, list[str]] = {}
        for u in utterances:
            if u["audio_path"] is None:
                continue
            relative = PurePosixPath(u["audio_path"])
            self.paths[str(relative)] = u["utt_id"]
            self.paths[str(PurePosixPath(Path(u["root"]).as_posix()) / relative)] = u["utt_id"]
            names.setdefault(relative.name, []).append(u["utt_id"])
            stems.setdefault(relative.stem, []).append(u["utt_id"])
        self.names, self.stems = names, stems

    def match(self, key: str) -> tuple[str | None, str]:
        """(utt_id, how it matched), or (None, why nothing matched)."""
        if key in self.ids:
            return key, "id"
        posix = PurePosixPath(key.replace("\\", "/"))
        if str(posix) in self.paths:
            return self.paths[str(posix)], "path"
        for how, index, part in (("file name", self.names, posix.name),
                                 ("stem", self.stems, posix.stem)):
            found = index.get(part, [])
            if len(found) == 1:
                return found[0], how
            if len(found) > 1:
                return None, (f"{how} {part!r} names {len(found)} utterances "
                              f"({', '.join(found[:3])}): give the id or the full path")
        return None, "names no utterance of the dataset (by id, audio path, file name or stem)"


class _Rows:
    """transcripts, utterance_errors and alignment_ops rows of an imported run, a batch at a
    time: `store` inserts what was added since the last call."""

    def __init__(self, run_id: str, now):
        self.run_id = run_id
        self.now = now
        self.files = 0
        self._clear()

    def _clear(self) -> None:
        self.transcripts: list[dict] = []
        self.errors: list[dict] = []
        self.ops: list[dict] = []
        self.files = 0

    def add(self, utt: dict, *, ref_raw: str, ref_norm: str, hyp_raw: str | None,
            hyp_norm: str | None, alignment: str, missing: str | None) -> None:
        """One covered utterance; `missing` is the error of one without a hypothesis."""
        keys = {"run_id": self.run_id, "utt_id": utt["utt_id"]}
        self.files += 1
        self.transcripts.append({
            **keys, "ref_raw": ref_raw, "ref_norm": ref_norm, "hyp_raw": hyp_raw,
            "hyp_norm": hyp_norm, "audio_s": utt["duration_s"], "compute_s": None,
            "error": missing, "created_at": self.now,
        })
        if missing is not None:
            return
        score = score_texts(ref_norm, hyp_norm, alignment=alignment)
        self.errors.append({**keys, **score.counts()})
        self.ops.extend(score.op_rows(**keys))

    def store(self, conn: sa.Connection) -> None:
        insert_rows(conn, "transcripts", self.transcripts)
        insert_rows(conn, "utterance_errors", self.errors)
        insert_rows(conn, "alignment_ops", self.ops)
        self._clear()


def _no_hypothesis(utt_id: str, path: Path) -> str:
    return f"no hypothesis for {utt_id} in {path}"


def _check_replace(engine: sa.Engine, run_id: str, replace: bool) -> None:
    stored = query(engine, named_query("infer", "load_run"), run_id=run_id)
    if not stored:
        return
    if stored[0]["source_path"] is None:
        raise AsrlensError(f"run {run_id!r} was transcribed by asrlens, not imported: "
                           "import under another --run NAME")
    if not replace:
        raise AsrlensError(f"run {run_id!r} already exists (imported from "
                           f"{stored[0]['source_path']}): pass --replace to import it again, "
                           "or choose another --run NAME")


def _delete_run(conn: sa.Connection, run_id: str) -> None:
    """Remove every row of run_id from every table that has a run_id column."""
    for row in query(conn, named_query("infer", "run_tables")):
        delete_rows(conn, row["table_name"], run_id=run_id)


def _float(value) -> float | None:
    return None if value is None else float(value)
