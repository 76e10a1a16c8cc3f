"""Ingest works batch by batch (issue 21 item 11, issue 26): with batches of two labels,
pages of two rows and one file read at a time, every layout stores exactly the rows, in the
same order, that one batch stores, duplicates, labels without audio and audio without labels
included; no batch holds more than its size; and a large labels file is ingested, and
re-ingested, in bounded memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from layouts import LAYOUTS, SAMPLE, build, duplicate_first, remove_audio

import asrlens.ingest.labels as labels_module
import asrlens.ingest.layouts.tabular as tabular
import asrlens.ingest.stage as stage
import asrlens.ingest.staging as staging
from asrlens.ingest import ingest_into

TABLES = ("datasets", "utterances", "audio_files", "ingest_issues", "utterance_labels",
          "utterance_spans")

TINY = 2
"""Labels per batch and rows per page in the batched ingest."""


def stored(db_path: Path) -> dict[str, list[tuple]]:
    """Every ingest table's rows in the order DuckDB returns them, without the ingest time."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {t: con.execute(f"select * exclude (ingested_at) from {t}" if t == "datasets"
                               else f"select * from {t}").fetchall() for t in TABLES}
    finally:
        con.close()


def untidy(layout: str, folder: Path) -> None:
    """A duplicate id, a label without audio, and audio without a label."""
    duplicate_first(layout, folder)
    remove_audio(layout, folder, "LJ001-0008")
    if layout != "parquet":
        shutil.copy(SAMPLE / "wavs" / "LJ001-0013.wav", folder / "stray.wav")


def tiny_batches(monkeypatch) -> list[int]:
    """Batches of TINY labels and pages of TINY rows; returns the sizes of the utterances
    batches staged."""
    for module in (labels_module, tabular, stage):
        monkeypatch.setattr(module, "STREAM_BATCH", TINY)
    monkeypatch.setattr(staging, "PAGE_ROWS", TINY)
    sizes = []
    append = staging.Scratch.append

    def spy(self, table, rows):
        if table == "utterances":
            sizes.append(len(rows))
        return append(self, table, rows)

    monkeypatch.setattr(staging.Scratch, "append", spy)
    return sizes


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tiny_batches_store_exactly_what_one_batch_stores(layout, tmp_path, monkeypatch):
    folder = build(layout, tmp_path / "data", ids=("LJ001-0002", "LJ001-0008", "LJ001-0013",
                                                   "LJ001-0014", "LJ001-0015"))
    untidy(layout, folder)
    whole = ingest_into(tmp_path / "whole.duckdb", folder, progress=False, workers=1)
    sizes = tiny_batches(monkeypatch)
    batched = ingest_into(tmp_path / "batched.duckdb", folder, progress=False, workers=1)
    assert stored(tmp_path / "batched.duckdb") == stored(tmp_path / "whole.duckdb")
    assert {k: v for k, v in vars(batched).items() if k != "seconds"} == {
        k: v for k, v in vars(whole).items() if k != "seconds"}
    assert whole.issues_by_kind["duplicate_id"] == 1
    assert whole.labels_without_audio == 1
    if layout != "parquet":
        assert whole.audio_without_labels >= 1
    assert max(sizes) <= TINY and len(sizes) >= 3  # really in batches


def test_a_batched_reingest_of_the_unchanged_dataset_changes_nothing(tmp_path, monkeypatch):
    folder = build("ljspeech", tmp_path / "data")
    untidy("ljspeech", folder)
    tiny_batches(monkeypatch)
    db_path = tmp_path / "a.duckdb"
    first = ingest_into(db_path, folder, progress=False, workers=1)
    again = ingest_into(db_path, folder, progress=False, workers=1)
    assert first.changed and not again.changed
    assert again.files_skipped == first.files_read and again.files_read == 0


BIG_LABELS = 200_000
"""Labels of the memory test: measured by CHILD, ingest then re-ingest, the code before
streaming peaked at 523 MiB, the streaming one at 239 MiB (scratch DuckDB at 64 MB) and
280 MiB (at 512 MB, main's setting)."""

PEAK_LIMIT_MIB = 380

CHILD = textwrap.dedent("""
    import sys
    from asrlens.ingest import ingest_into
    for _ in range(2):  # ingest, then re-ingest unchanged
        ingest_into(sys.argv[1], sys.argv[2], progress=False, workers=1)
""")

MEASURE = textwrap.dedent("""
    import resource, subprocess, sys
    subprocess.run([sys.executable, "-c", *sys.argv[1:]], check=True)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
""")
"""Runs CHILD and prints its peak memory (MiB). A small interpreter of its own does it: the
child of a large test process would count that process's pages too (Linux keeps a forked
child's high-water mark across exec; 7.4 GB late in the full suite)."""


@pytest.mark.slow
def test_a_large_labels_file_is_ingested_in_bounded_memory(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    lines = (SAMPLE / "labels.csv").read_text(encoding="utf-8").splitlines()
    with (folder / "labels.csv").open("w", encoding="utf-8") as out:
        for i in range(BIG_LABELS):
            out.write(f"L{i:07d}|{lines[i % len(lines)].split('|', 1)[1]}\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", MEASURE, CHILD, str(tmp_path / "big.duckdb"),
                           str(folder)], capture_output=True, text=True, env=env, check=True)
    peak_mib = int(done.stdout.split()[-1])
    assert peak_mib < PEAK_LIMIT_MIB, done.stdout
