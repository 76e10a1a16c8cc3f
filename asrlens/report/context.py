"""What every report section gets: the ReportContext, and run_query for the report's SQL.

    rows = run_query(engine, "worst_files", run_id=ctx.run_id, top_n=ctx.top_n)
    wer = run_columns(engine, "distribution_files", run_id=ctx.run_id)["wer"]

run_query gives rows as dicts, for the short results a section shows (the top N, a summary
row); run_columns gives one numpy array per column, for the per-file results a plot or a
bootstrap reads (a million files: a few numbers each, not a million dicts).

Sections import this module, render.py imports the sections: no module imports back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from asrlens import defaults
from asrlens.db import named_query, query

DEFAULT_OUT_DIR = defaults.REPORT_OUT_DIR
DEFAULT_TOP_N = defaults.REPORT_TOP_N
"""Files listed in the worst-files section."""
DEFAULT_SEED = defaults.SEED


@dataclass(frozen=True)
class ReportContext:
    """What every section's `build` gets besides the database engine.

    run_ids: the runs to report, primary first (empty: a dataset-only report).
    dataset: the dataset reported on (the primary run's, or the one ingested).
    dataset_root: absolute folder its audio paths are relative to (None if unknown).
    audio: 'embed' (compressed audio inside the page), 'link' (file:// links) or 'none'.
    top_n: how many files the worst-files and changed-files tables list.
    seed: seeds every random choice (sampled file, bootstrap), so a report is reproducible.
    out_dir: folder index.html is written to.
    group_by: how the groups section groups files (asrlens.compare.groups rule text; None:
    the default, the utt_id's prefix before '-').
    """

    run_ids: tuple[str, ...]
    dataset: str
    dataset_root: Path | None = None
    audio: str = "embed"
    top_n: int = DEFAULT_TOP_N
    seed: int = DEFAULT_SEED
    out_dir: Path = Path(DEFAULT_OUT_DIR)
    runs: dict[str, dict] = field(default_factory=dict)
    """run_id -> its `runs` row, for every run in run_ids."""
    group_by: str | None = None
    all_runs: bool = False
    """Add the run history: every run of the dataset (`report --all-runs`)."""
    comparisons: dict = field(default_factory=dict, compare=False, repr=False)
    """(run_a, run_b) -> its asrlens.compare Comparison, made once per page: the summary's
    verdicts and the comparison section read the same one (asrlens.report.summary.compared)."""

    @property
    def run_id(self) -> str | None:
        """The primary run (the first given), or None for a dataset-only report."""
        return self.run_ids[0] if self.run_ids else None

    @property
    def run(self) -> dict | None:
        """The primary run's `runs` row, or None."""
        return self.runs.get(self.run_id) if self.run_id else None


def run_query(engine: sa.Engine | sa.Connection, name: str, **params: Any) -> list[dict]:
    """Rows (as dicts) of asrlens/report/queries/<name>.sql, with :named parameters."""
    return query(engine, named_query("report", name), **params)


def run_columns(
    engine: sa.Engine | sa.Connection, name: str, **params: Any
) -> dict[str, np.ndarray]:
    """Columns (name -> numpy array, in the query's row order) of
    asrlens/report/queries/<name>.sql, fetched by DuckDB straight into arrays.

    A NULL becomes NaN in a numeric column (which is then float) and None in a text column.
    """
    if isinstance(engine, sa.Engine):
        with engine.connect() as conn:
            return run_columns(conn, name, **params)
    result = engine.execute(sa.text(named_query("report", name)), params)
    columns = result.cursor.fetchnumpy()  # DuckDB's own fetch: no Python object per row
    return {column: _unmasked(values) for column, values in columns.items()}


def _unmasked(values: np.ndarray) -> np.ndarray:
    """A fetched column without its NULL mask: NaN (numbers) or None (text) in its place."""
    if not isinstance(values, np.ma.MaskedArray):
        return values
    if values.dtype.kind in "iufb":
        return values.astype(float).filled(np.nan)
    return values.astype(object).filled(None)
