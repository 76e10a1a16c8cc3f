"""Which dataset and which run: every command picks them by the same rule (asrlens.catalog,
README "Which dataset and which run"), and names an unknown one with the same error.

    dataset: the one named; else the run's; else the only one; else the default run's
    run:     the one named; else the most recent finished run; else the most recent run

The database most of these use holds two datasets, 'alpha' and 'beta' (the 7 toy files
each), a finished run 'alpha-run' of alpha and, started after it, a run 'beta-run' of beta
that was interrupted. Before the catalog, `analyze` took the interrupted run (the most
recently started) while `report` took the finished one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import rows
from test_infer import SCRIPT, ScriptedRecognizer, make_toy_db, run

from asrlens import catalog
from asrlens.cli import cli
from asrlens.db import database, wal_path
from asrlens.errors import AsrlensError
from asrlens.ingest import ingest_into
from asrlens.settings import InferSettings, IngestSettings


@pytest.fixture
def scripted(monkeypatch):
    """`asrlens infer` and `asrlens run` use ScriptedRecognizer whatever --engine says."""
    from asrlens.infer import recognizers

    monkeypatch.setattr(recognizers, "get_recognizer", lambda name, **kwargs: ScriptedRecognizer())
    monkeypatch.setitem(recognizers.RECOGNIZERS, "scripted", "test_infer:ScriptedRecognizer")


@pytest.fixture
def toy_folder(tmp_path) -> Path:
    """The toy dataset as a folder: wavs/U001.wav ... and an LJSpeech labels.csv."""
    make_toy_db(tmp_path)
    root = tmp_path / "toy"
    (root / "labels.csv").write_text("".join(f"{u}|{ref}|{ref}\n" for u, ref, _ in SCRIPT))
    return root


@pytest.fixture
def two_datasets(tmp_path, toy_folder) -> Path:
    db = tmp_path / "two.duckdb"
    for name in ("alpha", "beta"):
        ingest_into(db, toy_folder, name=name, progress=False)
    run(db, ScriptedRecognizer(), dataset="alpha", run_id="alpha-run")
    with pytest.raises(KeyboardInterrupt):
        run(db, ScriptedRecognizer(interrupt_at=3), dataset="beta", run_id="beta-run")
    assert rows(db, "select run_id, status from runs order by started_at") == [
        {"run_id": "alpha-run", "status": "finished"},
        {"run_id": "beta-run", "status": "interrupted"}]
    return db


def asrlens(db: Path, *args) -> str:
    result = CliRunner().invoke(cli, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return result.output


def reported_run(html_path: Path) -> str:
    """The primary run of a report page (the run section's 'Run <strong>ID</strong>:')."""
    return re.search(r"Run <strong>([^<]+)</strong>:", html_path.read_text()).group(1)


# --- the rule ------------------------------------------------------------------------------


def test_the_default_run_is_the_most_recent_finished_one_even_after_an_interruption(
        two_datasets):
    with database(two_datasets, read_only=True) as engine:
        assert catalog.resolve_run(engine)["run_id"] == "alpha-run"
        assert catalog.resolve_dataset(engine) == "alpha"  # two datasets: the default run's
        assert catalog.resolve_run(engine, dataset="beta")["run_id"] == "beta-run"
        assert catalog.resolve_dataset(engine, run_id="beta-run") == "beta"


def test_without_a_finished_run_the_most_recent_run_of_any_status_is_the_default(tmp_path):
    db = make_toy_db(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run(db, ScriptedRecognizer(interrupt_at=2), run_id="first")
    with pytest.raises(KeyboardInterrupt):
        run(db, ScriptedRecognizer(interrupt_at=2), run_id="second")
    with database(db, read_only=True) as engine:
        assert catalog.resolve_run(engine)["run_id"] == "second"
    run(db, ScriptedRecognizer(), run_id="first")  # resumed to the end: now the finished one
    with database(db, read_only=True) as engine:
        assert catalog.resolve_run(engine)["run_id"] == "first"


def test_one_dataset_is_the_default_and_several_without_a_run_must_be_named(tmp_path,
                                                                            toy_folder):
    db = tmp_path / "db.duckdb"
    ingest_into(db, toy_folder, name="alpha", progress=False)
    with database(db, read_only=True) as engine:
        assert catalog.resolve_dataset(engine) == "alpha"
        with pytest.raises(AsrlensError, match=r"^the database holds no run yet: run "
                                               r"`asrlens infer` first$"):
            catalog.resolve_run(engine)
    ingest_into(db, toy_folder, name="beta", progress=False)
    with database(db, read_only=True) as engine, pytest.raises(
            AsrlensError, match=r"^the database holds 2 datasets \(alpha, beta\) and no run to "
                                r"choose by: choose one with --dataset NAME$"):
        catalog.resolve_dataset(engine)


# --- every command picks the same dataset and run ------------------------------------------


def test_analyze_takes_the_default_run_not_the_interrupted_one(two_datasets):
    assert asrlens(two_datasets, "analyze").startswith("Analysed run alpha-run (dataset alpha)")


def test_report_takes_the_same_run(two_datasets, tmp_path):
    out = tmp_path / "report"
    asrlens(two_datasets, "report", "--audio", "none", "--out", str(out))
    assert reported_run(out / "index.html") == "alpha-run"


def test_analyze_then_report_without_run_agree(two_datasets, tmp_path):
    analysed = re.match(r"Analysed run (\S+) ", asrlens(two_datasets, "analyze")).group(1)
    asrlens(two_datasets, "report", "--audio", "none", "--out", str(tmp_path / "r"))
    assert reported_run(tmp_path / "r" / "index.html") == analysed


def test_export_takes_the_same_run(two_datasets, tmp_path):
    out = tmp_path / "export.csv"
    output = asrlens(two_datasets, "export", "--format", "csv", "--out", str(out))
    assert f"wrote 7 files of run alpha-run to {out}" in output
    assert len(out.read_text().splitlines()) == 1 + 7


def test_explore_takes_the_same_dataset(two_datasets, tmp_path):
    output = asrlens(two_datasets, "explore", "--no-wav2vec2", "--seed", "0",
                     "--out", str(tmp_path / "look"))
    assert re.search(r"utterance U00\d of dataset alpha:", output)


def test_infer_transcribes_the_same_dataset(two_datasets, scripted):
    output = asrlens(two_datasets, "infer", "--engine", "scripted", "--no-progress",
                     "--no-analyze")
    assert output.startswith("run alpha:scripted: finished")
    assert rows(two_datasets, "select dataset from runs where run_id = 'alpha:scripted'") == [
        {"dataset": "alpha"}]


@pytest.mark.slow
def test_run_reports_its_own_run_and_analyze_and_report_then_agree_with_it(
        two_datasets, toy_folder, scripted, tmp_path):
    out = tmp_path / "report"
    output = asrlens(two_datasets, "run", str(toy_folder), "--name", "gamma", "--engine",
                     "scripted", "--no-progress", "--audio", "none", "--out", str(out))
    assert output.strip().endswith(str(out / "index.html"))
    assert reported_run(out / "index.html") == "gamma:scripted"
    # the newest finished run is now the default of every command
    assert asrlens(two_datasets, "analyze").startswith("Analysed run gamma:scripted "
                                                       "(dataset gamma)")
    asrlens(two_datasets, "report", "--audio", "none", "--out", str(tmp_path / "again"))
    assert reported_run(tmp_path / "again" / "index.html") == "gamma:scripted"


# --- an unknown name: one line, the same wording, what exists ------------------------------

NO_DATASET = "Error: no dataset named 'nope' in the database; datasets: alpha, beta"
NO_RUN = "Error: no run named 'nope' in the database; runs: alpha-run, beta-run"


@pytest.mark.parametrize(("args", "line"), [
    (["infer", "--dataset", "nope"], NO_DATASET),
    (["import-run", "HYP", "--dataset", "nope"], NO_DATASET),
    (["explore", "--dataset", "nope", "--no-wav2vec2"], NO_DATASET),
    (["report", "--dataset", "nope"], NO_DATASET),
    (["analyze", "--run", "nope"], NO_RUN),
    (["report", "--run", "nope"], NO_RUN),
    (["export", "--run", "nope"], NO_RUN),
    (["compare", "alpha-run", "nope"], NO_RUN),
], ids=lambda value: value[0] if isinstance(value, list) else None)
def test_an_unknown_name_is_one_line_listing_what_exists(two_datasets, tmp_path, args, line):
    hyp = tmp_path / "hyp.trn"
    hyp.write_text("the cat sat (U001)\n")
    args = [str(hyp) if a == "HYP" else a for a in args]
    result = CliRunner().invoke(cli, [*args, "--db", str(two_datasets)])
    assert result.exit_code == 1
    assert result.output == line + "\n"


# --- asrlens run takes every option of ingest and infer -------------------------------------


def test_run_accepts_every_infer_and_ingest_option():
    """Derived from the infer and ingest commands: a new option there shows up here. infer's
    --dataset names an ingested dataset; run's DATASET argument is the dataset instead."""
    run_command = cli.commands["run"]
    run_flags = {flag for p in run_command.params for flag in p.opts + p.secondary_opts}
    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    wanted = [p for name in ("infer", "ingest") for p in cli.commands[name].params
              if isinstance(p, click.Option) and p.name != "dataset"]
    assert len(wanted) > 20
    for option in wanted:
        for flag in option.opts + option.secondary_opts:
            assert flag in run_flags, f"asrlens run lacks {flag}"
            assert re.search(rf"(^|[ /]){re.escape(flag)}\b", help_text, re.M), flag
    assert "dataset" in {p.name for p in run_command.params if isinstance(p, click.Argument)}


def test_the_settings_objects_hold_exactly_the_stage_options():
    """One field per option: the options reach infer/ingest through these objects alone."""
    from dataclasses import fields

    from asrlens.commands.common import INFER_OPTIONS, INGEST_OPTIONS

    def names(options):
        def probe():
            pass
        for option in options:
            option(probe)
        return sorted(p.name for p in probe.__click_params__)

    assert names(INFER_OPTIONS) == sorted(f.name for f in fields(InferSettings))
    assert names(INGEST_OPTIONS) == sorted(f.name for f in fields(IngestSettings))


def test_run_passes_infer_and_ingest_options_to_the_stages(toy_folder, scripted, tmp_path):
    db = tmp_path / "run.duckdb"
    labels = shutil.copy(toy_folder / "labels.csv", tmp_path / "other-labels.csv")
    asrlens(db, "run", str(toy_folder), "--engine", "scripted", "--no-progress", "--audio",
            "none", "--out", str(tmp_path / "report"), "--labels", str(labels), "--name",
            "named", "--workers", "1", "--normalizer", "verbatim", "--alignment", "sclite",
            "--batch-files", "2", "--limit", "5", "--run", "chosen", "--no-analyze")
    [stored] = rows(db, "select run_id, dataset, normalizer, alignment, files_total, "
                        "json_extract(options, '$.batch_files')::int as batch_files from runs")
    assert stored.pop("normalizer").startswith("verbatim")  # with its version: verbatim-v1
    assert stored == {"run_id": "chosen", "dataset": "named", "alignment": "sclite",
                      "files_total": 5, "batch_files": 2}
    assert rows(db, "select labels_path from datasets") == [{"labels_path": str(labels)}]
    assert rows(db, "select count(*) as n from analysis_summary") == [{"n": 0}]


# --- defaults without torch ----------------------------------------------------------------


def test_the_defaults_and_the_option_definitions_do_not_import_torch():
    code = ("import sys, asrlens.defaults, asrlens.settings, asrlens.catalog, "
            "asrlens.commands.common, asrlens.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_database_block_leaves_the_file_whole_without_a_wal(tmp_path, toy_folder):
    db = tmp_path / "x.duckdb"
    with database(db) as engine:
        from asrlens.ingest import ingest

        ingest(engine, toy_folder, name="alpha", progress=False)
    assert not wal_path(db).exists()
    assert rows(db, "select name from datasets") == [{"name": "alpha"}]
