"""Which dataset and which run a command works on: one rule for each, one wording per error.

    dataset = resolve_dataset(engine)              # 'ljspeech-sample'
    run = resolve_run(engine)                      # the default run's row: run_id, dataset, status
    run = resolve_run(engine, "sphinx")            # that run, or an error listing the runs

Every command that takes --dataset or --run (infer, import-run, explore, analyze, report,
export, compare, and run's stages) resolves it here, so with the same database they all pick
the same dataset and the same run.

The rules (docs/datasets-and-runs.md):

- **dataset**: the one named (--dataset); else the dataset of the run named (--run); else the
  only dataset in the database; else the dataset of the default run; else an error asking for
  --dataset.
- **run**: the one named (--run); else the default run: the most recent *finished* run (of the
  dataset, when one is named), else the most recent run of any status (interrupted, failed,
  running). "Most recent" orders finished runs by when they finished and other runs by when
  they started. An interrupted run is therefore never the default while a finished run exists,
  so `asrlens analyze` and `asrlens report` without --run agree after an interruption.

An unknown name is an AsrlensError worded the same for every command, listing what exists:
`no dataset named 'x' in the database; datasets: a, b` and
`no run named 'x' in the database; runs: r1, r2`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from asrlens.db import named_query, query
from asrlens.errors import AsrlensError

NO_DATASET = "the database holds no dataset: run `asrlens ingest DATASET` first"
NO_RUN = "the database holds no run yet: run `asrlens infer` first"

Database = sa.Engine | sa.Connection


def dataset_names(db: Database) -> list[str]:
    """Names of the ingested datasets, sorted."""
    return [row["name"] for row in query(db, named_query("catalog", "datasets"))]


def run_rows(db: Database) -> list[dict]:
    """Every run (run_id, dataset, status, started_at, finished_at), most recent first."""
    return query(db, named_query("catalog", "runs"))


def default_run(runs: Sequence[dict], dataset: str | None = None) -> dict | None:
    """The default run among `runs` (most recent first), restricted to `dataset` when given:
    the most recent finished one, else the most recent one; None when there is none."""
    candidates = [r for r in runs if dataset is None or r["dataset"] == dataset]
    finished = [r for r in candidates if r["status"] == "finished"]
    return (finished or candidates or [None])[0]


def unknown_dataset(names: Iterable[str], known: Sequence[str]) -> AsrlensError:
    """The one wording of an unknown dataset name, listing the datasets there are."""
    listed = ", ".join(known) or "none yet (run `asrlens ingest DATASET` first)"
    return AsrlensError(f"no dataset named {_quoted(names)} in the database; datasets: {listed}")


def unknown_run(names: Iterable[str], known: Sequence[str]) -> AsrlensError:
    """The one wording of an unknown run name, listing the runs there are."""
    listed = ", ".join(known) or "none yet (run `asrlens infer` first)"
    return AsrlensError(f"no run named {_quoted(names)} in the database; runs: {listed}")


def resolve_dataset(db: Database, name: str | None = None, *, run_id: str | None = None) -> str:
    """The dataset a command works on, by the rule above. Raises AsrlensError for an unknown
    dataset or run, an empty database, or several datasets and no run to choose by."""
    names = dataset_names(db)
    if name is not None:
        if name not in names:
            raise unknown_dataset([name], names)
        return name
    if run_id is not None:
        return find_runs(db, [run_id])[0]["dataset"]
    if len(names) == 1:
        return names[0]
    if not names:
        raise AsrlensError(NO_DATASET)
    run = default_run(run_rows(db))
    if run is not None and run["dataset"] in names:
        return run["dataset"]
    raise AsrlensError(f"the database holds {len(names)} datasets ({', '.join(names)}) and no "
                       "run to choose by: choose one with --dataset NAME")


def find_runs(db: Database, run_ids: Iterable[str]) -> list[dict]:
    """The rows of the runs named, in the order given (repeats dropped); AsrlensError naming
    the unknown ones and listing the runs there are."""
    runs = run_rows(db)
    by_id = {r["run_id"]: r for r in runs}
    wanted = list(dict.fromkeys(run_ids))
    unknown = [r for r in wanted if r not in by_id]
    if unknown:
        raise unknown_run(unknown, sorted(by_id))
    return [by_id[r] for r in wanted]


def resolve_run(db: Database, run_id: str | None = None, *, dataset: str | None = None) -> dict:
    """The run a command works on (its row), by the rule above. Raises AsrlensError for an
    unknown run or dataset, or when there is no run to pick."""
    if run_id is not None:
        return find_runs(db, [run_id])[0]
    if dataset is not None:
        dataset = resolve_dataset(db, dataset)
    run = default_run(run_rows(db), dataset)
    if run is not None:
        return run
    if dataset is not None:
        raise AsrlensError(f"dataset {dataset!r} has no run yet: run `asrlens infer --dataset "
                           f"{dataset}` first")
    raise AsrlensError(NO_RUN if dataset_names(db) else NO_DATASET)


def resolve_report(
    db: Database, run_ids: Sequence[str] = (), *, dataset: str | None = None
) -> tuple[list[dict], str]:
    """The runs (primary first) and the dataset a report covers: the runs named, else the
    default run of the dataset (none: a dataset-only report); the dataset named, else the
    primary run's, else the default dataset."""
    if run_ids:
        runs = find_runs(db, run_ids)
        if dataset is not None:
            resolve_dataset(db, dataset)  # an unknown name is an error here too
        return runs, dataset or runs[0]["dataset"]
    dataset = resolve_dataset(db, dataset)
    run = default_run(run_rows(db), dataset)
    return ([run] if run else []), dataset


def missing_labels(db: Database, dataset: str) -> AsrlensError | None:
    """The error to give when `dataset` has no utterances because ingest found no labels
    file (its audio may be fine); None when it has labels."""
    rows = query(db, named_query("catalog", "dataset_labels"), dataset=dataset)
    if not rows or rows[0]["n_labels"]:
        return None
    audio = rows[0]["n_audio"] or 0
    found = "no labels file" if rows[0]["labels_path"] is None else (
        f"no usable line in its labels file {rows[0]['labels_path']}")
    return AsrlensError(
        f"dataset {dataset!r} has no labels: ingest found {found} ({audio} audio files were "
        f"found); ingest it again naming the labels: `asrlens ingest DATASET --labels FILE`")


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)
