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

Memory does not grow with the file or the dataset: the file is read a line at a time into a
temporary table, matched and checked there (queries import_*.sql), and the covered
utterances are scored, stored and committed FLUSH_FILES at a time (DuckDB holds what a
transaction wrote in memory until it commits: about 3 KB per file).

All or nothing all the same. Bad input is found before anything is written: the file is
read, matched and checked in the first transaction, which then (and only then) removes the
run being replaced, and records the new run as 'running', owned by this process, with its
import_issues. The last commit marks it 'finished'. An import that fails or is interrupted
(Ctrl-C, SIGTERM) after the first commit removes every row of the run before it re-raises,
so running the same command again imports it whole; one killed outright (SIGKILL, power
loss) leaves a run that the next command marks 'interrupted' (asrlens.owner), which
`import-run --replace` imports again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import duckdb
import sqlalchemy as sa

from asrlens.catalog import resolve_dataset
from asrlens.db import delete_rows, insert_rows, named_query, query
from asrlens.errors import AsrlensError
from asrlens.fingerprint import store_fingerprint
from asrlens.infer.hypfile import HypLine, HypStream, open_hypotheses
from asrlens.infer.runs import library_versions, utc_now
from asrlens.owner import current_owner
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
STAGE_LINES = 20000
"""Lines of the hypothesis file parsed before they are stored (in a temporary table)."""
ISSUES_KEPT = 1000
"""Issues an ImportResult lists (import_issues holds them all; issue_counts counts them)."""


class ImportInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during an import: nothing of run `run_id` is stored (batches already
    committed were removed). `replaced`: the run of that name that --replace replaces had
    been removed before (it is removed once the file has been read and checked)."""

    def __init__(self, run_id: str, *, replaced: bool):
        super().__init__(f"import of run {run_id} interrupted")
        self.run_id = run_id
        self.replaced = replaced


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
    issues: list[ImportIssue] = field(default_factory=list)  # the first ISSUES_KEPT
    issue_counts: dict[str, int] = field(default_factory=dict)  # kind -> issues of that kind

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
    stored then. Ctrl-C or SIGTERM raises ImportInterrupted, leaving nothing of the run."""
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
    replacing = _check_replace(engine, run_id, replace)
    stream = open_hypotheses(path, fmt=fmt)
    source = str(path.resolve())
    now = utc_now()
    try:
        matched_by, counted, issue_counts, issues, covered = _import(
            engine, path, stream, source=source, now=now, dataset=dataset, run_id=run_id,
            norm=norm, alignment=alignment, model=model, replacing=replacing)
    except ImportInterrupted:
        raise
    except KeyboardInterrupt as exc:  # before the first commit: nothing was written
        raise ImportInterrupted(run_id, replaced=False) from exc
    summary = query(engine, named_query("infer", "run_summary_row"), run_id=run_id)[0]
    return ImportResult(
        run_id=run_id, dataset=dataset, path=path, fmt=stream.fmt, lines=counted["lines"],
        files_total=covered["files"], files_scored=covered["files"] - covered["missing"],
        files_without_hypothesis=covered["missing"], matched_by=matched_by,
        wer=_float(summary["wer"]), strict_wer=_float(summary["strict_wer"]),
        raw_wer=_float(summary["raw_wer"]), issues=issues, issue_counts=issue_counts,
    )


def _import(engine: sa.Engine, path: Path, stream: HypStream, *, source: str, now,
            dataset: str, run_id: str, norm, alignment: str, model: str | None,
            replacing: bool) -> tuple:
    """Store the run (the module's docstring says in which transactions); returns
    (matched_by, line counts, issue counts, first issues, covered counts)."""
    with engine.connect() as conn, _path_functions(conn):
        # First transaction: read, match and check the file; nothing is written if it fails.
        _run_script(conn, named_query("infer", "import_stage"))
        _stage_lines(conn, stream)
        conn.execute(sa.text(named_query("infer", "import_match")), {"dataset": dataset})
        matched_by = {r["how"]: r["n"] for r in query(conn, named_query("infer",
                                                                        "import_matched_by"))}
        counted = query(conn, named_query("infer", "import_line_counts"))[0]
        if not matched_by:
            keys = ", ".join(counted["first_keys"] or []) or "none"
            raise AsrlensError(f"no line of {path} names an utterance of dataset {dataset!r} "
                               f"({counted['lines']} {stream.fmt} lines; first keys: {keys})")
        conn.execute(sa.text(named_query("infer", "import_cover")), {"dataset": dataset})
        conn.execute(sa.text(named_query("infer", "import_find_issues")), {"path": str(path)})
        issue_counts = {r["kind"]: r["n"] for r in query(conn, named_query(
            "infer", "import_issue_counts"))}
        issues = [ImportIssue(**r) for r in query(conn, named_query(
            "infer", "import_first_issues"), n=ISSUES_KEPT)]
        covered = query(conn, named_query("infer", "import_covered_counts"))[0]
        if replacing:
            _delete_run(conn, run_id)
        insert_rows(conn, "runs", [{
            "run_id": run_id, "dataset": dataset, "engine": ENGINE_NAME,
            "model": model or path.name, "checkpoint": None, "checkpoint_sha256": None,
            "normalizer": norm.id, "reference_column": norm.reference_column,
            "device": NO_DEVICE, "precision": NO_DEVICE,
            "options": json.dumps({"format": stream.fmt, "lines": counted["lines"],
                                   "matched_by": matched_by, "issues": issue_counts}),
            "versions": json.dumps(library_versions()), "status": "running",
            "started_at": now, "finished_at": None, "files_total": covered["files"],
            "audio_s": 0.0, "wall_s": None, "alignment": alignment,
            "source_path": source, "source_format": stream.fmt, **current_owner(),
        }])
        conn.execute(sa.text(named_query("infer", "import_store_issues")), {"run_id": run_id})
        conn.commit()
        try:  # then the rows, a batch per transaction
            audio_s = _store_rows(conn, run_id, now, dataset=dataset, norm=norm,
                                  alignment=alignment, path=path)
            _run_script(conn, named_query("infer", "import_unstage"))
            score_raw(conn, run_id, commit=True)
            store_fingerprint(conn, run_id)
            conn.execute(sa.text(named_query("infer", "import_finish")),
                         {"run_id": run_id, "finished_at": utc_now(), "audio_s": audio_s})
            conn.commit()
        except KeyboardInterrupt as exc:
            _discard_run(conn, run_id)
            raise ImportInterrupted(run_id, replaced=replacing) from exc
        except BaseException:
            _discard_run(conn, run_id)
            raise
    return matched_by, counted, issue_counts, issues, covered


def _stage_lines(conn: sa.Connection, stream: HypStream) -> None:
    """The file's lines into import_lines and import_bad, STAGE_LINES at a time."""
    lines: list[dict] = []
    bad: list[dict] = []
    for item in stream:
        if isinstance(item, HypLine):
            posix = PurePosixPath(item.key.replace("\\", "/"))
            lines.append({"line": item.line, "key": item.key, "text": item.text,
                          "posix": str(posix), "name": posix.name, "stem": posix.stem})
            if len(lines) >= STAGE_LINES:
                insert_rows(conn, "import_lines", lines)
                lines = []
        else:
            bad.append({"line": item.line, "key": item.key, "message": item.message})
            if len(bad) >= STAGE_LINES:
                insert_rows(conn, "import_bad", bad)
                bad = []
    insert_rows(conn, "import_lines", lines)
    insert_rows(conn, "import_bad", bad)


def _store_rows(conn: sa.Connection, run_id: str, now, *, dataset: str, norm, alignment: str,
                path: Path) -> float:
    """Normalize and score the covered utterances, FLUSH_FILES at a time, and insert and
    commit their transcripts, utterance_errors and alignment_ops rows; returns the seconds of
    audio of those with a hypothesis."""
    audio_s = 0
    rows = _Rows(run_id, now)
    for batch in query(conn, named_query("infer", "import_batches"), batch_files=FLUSH_FILES):
        for utt in query(conn, named_query("infer", "import_batch"), dataset=dataset, **batch):
            ref_raw = norm.reference(transcript=utt["transcript"],
                                     normalized=utt["normalized_transcript"])
            hyp = None if utt["line"] is None else utt["hyp"]
            if hyp is not None:
                audio_s += utt["duration_s"] or 0.0
            rows.add(utt, ref_raw=ref_raw, ref_norm=norm(ref_raw), hyp_raw=hyp,
                     hyp_norm=None if hyp is None else norm(hyp), alignment=alignment,
                     missing=None if hyp is not None else _no_hypothesis(utt["utt_id"], path))
        rows.store(conn)
        conn.commit()  # memory stays flat: DuckDB holds a transaction's rows until it commits
    return audio_s


@contextlib.contextmanager
def _path_functions(conn: sa.Connection) -> Iterator[None]:
    """pathlib's rules as SQL functions for import_match, on `conn` while the block runs."""
    raw = conn.connection.driver_connection
    functions = {
        "asrlens_posix": (lambda p: str(PurePosixPath(p)), 1),
        "asrlens_under": (lambda root, p: str(PurePosixPath(Path(root).as_posix())
                                              / PurePosixPath(p)), 2),
        "asrlens_name": (lambda p: PurePosixPath(p).name, 1),
        "asrlens_stem": (lambda p: PurePosixPath(p).stem, 1),
        "asrlens_repr": (repr, 1),
    }
    for name, (function, arity) in functions.items():
        raw.create_function(name, function, ["VARCHAR"] * arity, "VARCHAR")
    try:
        yield
    finally:
        for name in functions:
            with contextlib.suppress(duckdb.Error):
                raw.remove_function(name)


def _run_script(conn: sa.Connection, sql: str) -> None:
    """Run several statements (no parameters) in `conn`'s transaction."""
    conn.connection.driver_connection.execute(sql)


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


def _check_replace(engine: sa.Engine, run_id: str, replace: bool) -> bool:
    """Whether an imported run `run_id` is to be replaced (`replace` and it exists);
    AsrlensError where it exists and may not be."""
    stored = query(engine, named_query("infer", "load_run"), run_id=run_id)
    if not stored:
        return False
    if stored[0]["source_path"] is None:
        raise AsrlensError(f"run {run_id!r} was transcribed by asrlens, not imported: "
                           "import under another --run NAME")
    if not replace and stored[0]["status"] != "finished":
        raise AsrlensError(f"run {run_id!r} is an import of {stored[0]['source_path']} that "
                           f"did not finish (status {stored[0]['status']}): pass --replace "
                           "to import it again")
    if not replace:
        raise AsrlensError(f"run {run_id!r} already exists (imported from "
                           f"{stored[0]['source_path']}): pass --replace to import it again, "
                           "or choose another --run NAME")
    return True


def _delete_run(conn: sa.Connection, run_id: str) -> None:
    """Remove every row of run_id from every table that has a run_id column."""
    for row in query(conn, named_query("infer", "run_tables")):
        delete_rows(conn, row["table_name"], run_id=run_id)


def _discard_run(conn: sa.Connection, run_id: str) -> None:
    """Remove what an import that failed after its first commit stored. Best effort: where
    the database cannot be written (the disk is full, the connection is gone) the run stays
    'running' with this process as its owner, and is marked 'interrupted' once it is gone."""
    with contextlib.suppress(sa.exc.SQLAlchemyError, duckdb.Error):
        conn.rollback()
        _delete_run(conn, run_id)
        conn.commit()


def _float(value) -> float | None:
    return None if value is None else float(value)
