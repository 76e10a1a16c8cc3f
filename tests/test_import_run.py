"""import-run: another recognizer's hypotheses become a run like any other.

The toy dataset of test_infer (7 files with audio, 2 labels without) is scored once by the
scripted engine; importing what that engine "heard", in any format, must give the same
per-file counts, and every line or file that cannot be used must be reported.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_NAME, SPHINX_RUN
from test_align import PRA_SCORES
from test_infer import SCRIPT, ScriptedRecognizer, make_toy_db, rows, run

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.errors import AsrlensError
from asrlens.infer.export import export_run
from asrlens.infer.import_run import ImportInterrupted, import_run
from asrlens.scoring.normalize import LJSPEECH

COUNTS = "utt_id, ref_words, hyp_words, hits, substitutions, deletions, insertions, wer, cer"


@pytest.fixture
def toy(tmp_path) -> Path:
    return make_toy_db(tmp_path)


def do_import(db: Path, path: Path, **kwargs):
    engine = connect(db)
    try:
        return import_run(engine, path, **kwargs)
    finally:
        engine.dispose()


def counts(db: Path, run_id: str) -> list[dict]:
    return rows(db, f"select {COUNTS} from utterance_errors where run_id = :r order by utt_id",
                r=run_id)


def toy_root(db: Path) -> Path:
    return Path(rows(db, "select root from datasets")[0]["root"])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def hypotheses_in_every_format(folder: Path, root: Path) -> dict[str, Path]:
    """What the scripted engine hears, written as each format (keys: format)."""
    script = [(u, hyp) for u, _ref, hyp in SCRIPT]
    return {
        "trn": write(folder / "h.trn", "".join(f"{h} ({u})\n" for u, h in script)),
        "csv": write(folder / "h.csv", "utt_id,hypothesis\n"
                     + "".join(f'{u},"{h}"\n' for u, h in script)),
        "tsv": write(folder / "h.tsv", "".join(f"wavs/{u}.wav\t{h}\n" for u, h in script)),
        "jsonl": write(folder / "h.jsonl", "".join(
            json.dumps({"id": u, "hypothesis": h}) + "\n" for u, h in script)),
        "nemo": write(folder / "h.json", "".join(json.dumps(
            {"audio_filepath": str(root / "wavs" / f"{u}.wav"), "duration": 0.5,
             "text": "the reference, not to be read", "pred_text": h}) + "\n"
            for u, h in script)),
    }


# --- the same run, whatever the format -----------------------------------------------------


@pytest.mark.parametrize("fmt", ["trn", "csv", "tsv", "jsonl", "nemo"])
def test_every_format_gives_the_per_file_counts_of_the_recognizers_own_run(toy, tmp_path, fmt):
    run(toy, ScriptedRecognizer(), run_id="scripted")
    path = hypotheses_in_every_format(tmp_path, toy_root(toy))[fmt]
    result = do_import(toy, path, run_id="imported")
    assert result.fmt == fmt  # detected from the suffix (and nemo from its fields)
    assert (result.files_total, result.files_scored, result.issues) == (7, 7, [])
    assert counts(toy, "imported") == counts(toy, "scripted")
    summary = rows(toy, "select * from run_summary where run_id in ('imported', 'scripted') "
                        "order by run_id")
    assert summary[0]["wer"] == summary[1]["wer"] and summary[0]["raw_wer"] is not None


def test_runs_records_where_an_imported_run_came_from(toy, tmp_path):
    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["csv"]
    do_import(toy, path, run_id="whisper", model="whisper-large-v3")
    run_row = rows(toy, "select * from runs where run_id = 'whisper'")[0]
    assert (run_row["engine"], run_row["model"], run_row["status"]) == (
        "import", "whisper-large-v3", "finished")
    assert (run_row["source_path"], run_row["source_format"]) == (str(path.resolve()), "csv")
    options = run_row["options"]
    options = options if isinstance(options, dict) else json.loads(options)
    assert options["matched_by"] == {"id": 7} and options["format"] == "csv"


def test_lines_name_utterances_by_id_relative_or_absolute_path_file_name_or_stem(toy, tmp_path):
    root = toy_root(toy)
    path = write(tmp_path / "mixed.tsv", "".join([
        "U001\tthe cat sat\n",
        "wavs/U002.wav\ta well known printers mark\n",
        f"{root}/wavs/U003.wav\tin forty fifty five\n",
        "/another/machine/wavs/U004.wav\tgutenberg and chauffeur said\n",
        "U005.flac\t\n",
        "U006\trepresented in the exhibition\n",
        "U007\tit is not that\n",
    ]))
    result = do_import(toy, path, run_id="mixed")
    assert result.matched_by == {"id": 3, "path": 2, "file name": 1, "stem": 1}
    assert result.issues == [] and result.files_scored == 7


# --- nothing dropped silently --------------------------------------------------------------


def test_unmatched_duplicate_and_bad_lines_and_missing_files_are_all_reported(toy, tmp_path):
    path = write(tmp_path / "h.jsonl", "\n".join([
        json.dumps({"utt_id": "U001", "hypothesis": "the cat sat"}),
        json.dumps({"utt_id": "U001", "hypothesis": "a second opinion"}),
        json.dumps({"utt_id": "NOPE-1", "hypothesis": "who is this"}),
        "{not json",
        json.dumps({"utt_id": "U004", "hypothesis": None}),
        json.dumps({"utt_id": "U008", "hypothesis": "a label without audio"}),
    ]) + "\n")
    result = do_import(toy, path, run_id="partial")
    issues = rows(toy, "select kind, line, key from import_issues where run_id = 'partial' "
                       "order by kind, line, key")
    assert [(i["kind"], i["line"], i["key"]) for i in issues] == [
        ("bad_line", 4, None), ("bad_line", 5, "U004"), ("duplicate", 2, "U001"),
        *[("no_hypothesis", None, u) for u in ("U002", "U003", "U004", "U005", "U006",
                                                "U007")],
        ("unmatched", 3, "NOPE-1"),
    ]
    assert len(result.issues) == len(issues)
    # U008 has no audio but a hypothesis: scored, not dropped; files without one are failed
    assert (result.files_total, result.files_scored, result.files_without_hypothesis) == (
        8, 2, 6)
    summary = rows(toy, "select * from run_summary where run_id = 'partial'")[0]
    assert (summary["files_scored"], summary["files_failed"]) == (2, 6)
    failed_words = sum(len(LJSPEECH(ref).split()) for u, ref, _ in SCRIPT if u != "U001")
    assert summary["strict_ref_words"] == summary["ref_words"] + failed_words
    assert summary["strict_wer"] == pytest.approx(failed_words / summary["strict_ref_words"])
    assert summary["wer"] == 0.0


def test_csv_lines_with_a_wrong_number_of_fields_are_reported(toy, tmp_path):
    path = write(tmp_path / "h.csv", "U001,the cat sat\nU002,a well, known\nU003\n")
    result = do_import(toy, path, run_id="c")
    bad = [(i.line, i.key, i.message) for i in result.issues if i.kind == "bad_line"]
    assert bad == [
        (2, "U002", "3 fields, expected 2 (KEY,HYPOTHESIS; quote a hypothesis that holds the "
                    "separator)"),
        (3, "U003", "1 fields, expected 2 (KEY,HYPOTHESIS; quote a hypothesis that holds the "
                    "separator)"),
    ]


def test_a_file_that_names_no_utterance_is_refused_and_nothing_is_stored(toy, tmp_path):
    path = write(tmp_path / "other.trn", "hello world (X1)\nbye (X2)\n")
    with pytest.raises(AsrlensError, match=r"no line of .*other.trn names an utterance of "
                                           r"dataset 'toy' \(2 trn lines; first keys: X1, X2\)"):
        do_import(toy, path)
    assert rows(toy, "select count(*) as n from runs")[0]["n"] == 0


def test_a_bad_header_names_the_file_and_line(toy, tmp_path):
    path = write(tmp_path / "h.csv", "utt_id,score\nU001,3\n")
    with pytest.raises(AsrlensError, match=r"h.csv line 1: the header names no hypothesis "
                                           r"column"):
        do_import(toy, path)
    path = tmp_path / "h.trn"
    path.write_bytes(b"ok (U001)\ncaf\xe9 (U002)\n")
    with pytest.raises(AsrlensError, match=r"h.trn line 2: not UTF-8 text"):
        do_import(toy, path)


def test_an_existing_run_is_replaced_only_when_asked_and_only_if_imported(toy, tmp_path):
    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["trn"]
    do_import(toy, path, run_id="h")
    with pytest.raises(AsrlensError, match="run 'h' already exists .* pass --replace"):
        do_import(toy, path, run_id="h")
    write(path, "the cat sat (U001)\n")
    result = do_import(toy, path, run_id="h", replace=True)
    assert result.files_scored == 1
    assert rows(toy, "select count(*) as n from transcripts where run_id = 'h' "
                     "and error is null")[0]["n"] == 1
    run(toy, ScriptedRecognizer(), run_id="engine-run")
    with pytest.raises(AsrlensError, match="run 'engine-run' was transcribed by asrlens"):
        do_import(toy, path, run_id="engine-run", replace=True)


def test_cli_import_run_prints_what_matched_and_the_issues(toy, tmp_path):
    path = write(tmp_path / "whisper.csv", "U001,the cat sat\nZZZ,nothing\n")
    result = CliRunner().invoke(cli, ["import-run", str(path), "--db", str(toy),
                                      "--model", "whisper"])
    assert result.exit_code == 0, result.output
    assert "run whisper: imported 2 csv lines" in result.output
    assert "1 of 7 files of toy scored, 6 without a hypothesis" in result.output
    assert "unmatched line 2: names no utterance" in result.output
    bad = CliRunner().invoke(cli, ["import-run", str(tmp_path / "missing.csv"), "--db",
                                   str(toy)])
    assert bad.exit_code == 1 and bad.output.startswith("Error: file not found: ")


# --- sclite mode, end to end ---------------------------------------------------------------


def test_an_sclite_mode_import_gives_sctk_sclites_counts_file_by_file(toy, tmp_path):
    import shutil

    if shutil.which("sctk") is None:
        pytest.skip("sctk (NIST sclite) is not installed")
    hyp = write(tmp_path / "h.tsv", "".join(f"{u}\t{h}\n" for u, _r, h in SCRIPT))
    do_import(toy, hyp, run_id="s", alignment="sclite")
    engine = connect(toy, read_only=True)
    try:
        export_run(engine, run_id="s", fmt="trn", out=tmp_path / "trn")
    finally:
        engine.dispose()
    out = subprocess.run(["sctk", "sclite", "-r", str(tmp_path / "trn" / "ref.trn"), "trn",
                          "-h", str(tmp_path / "trn" / "hyp.trn"), "trn", "-i", "rm", "-o",
                          "pra", "stdout"], capture_output=True, text=True, check=True).stdout
    sclite = {m["id"].upper(): tuple(int(n) for n in m["counts"].split())  # sclite lowers ids
              for m in PRA_SCORES.finditer(out)}
    ours = {r["utt_id"]: (r["hits"], r["substitutions"], r["deletions"], r["insertions"])
            for r in rows(toy, "select * from utterance_errors where run_id = 's'")}
    assert sclite == ours and len(ours) == len(SCRIPT)
    assert rows(toy, "select alignment from run_summary where run_id = 's'")[0] == {
        "alignment": "sclite"}


# --- done when: a pocketsphinx run's own hypotheses, through trn ---------------------------


@pytest.mark.slow
def test_an_imported_trn_of_a_pocketsphinx_run_gives_that_runs_per_file_counts(
        sphinx_db, copy_db, tmp_path):
    db = copy_db(sphinx_db)
    engine = connect(db)
    try:
        export_run(engine, run_id=SPHINX_RUN, fmt="trn", out=tmp_path / "trn")
        result = import_run(engine, tmp_path / "trn" / "hyp.trn", dataset=SAMPLE_NAME,
                            run_id="sphinx-trn")
    finally:
        engine.dispose()
    assert result.fmt == "trn" and result.issues == []
    assert counts(db, "sphinx-trn") == counts(db, SPHINX_RUN)
    assert len(counts(db, SPHINX_RUN)) == 32
    audio = rows(db, "select run_id, audio_s from runs order by run_id")
    assert audio[1]["audio_s"] == pytest.approx(audio[0]["audio_s"], rel=1e-3)  # the files' seconds
    assert re.fullmatch(r".*hyp\.trn", rows(db, "select source_path from runs "
                                                "where run_id = 'sphinx-trn'")[0]["source_path"])


RUN_TABLES = ("transcripts", "utterance_errors", "alignment_ops", "raw_errors",
              "raw_alignment_ops", "import_issues")


def stored(db: Path, run_id: str) -> dict[str, list[dict]]:
    """Every row of the run in the tables import-run writes (run_id and times left out)."""
    tables = {table: rows(db, f"select * exclude (run_id) from {table} where run_id = :r "
                              "order by all", r=run_id) for table in RUN_TABLES}
    tables["transcripts"] = [{k: v for k, v in t.items() if k != "created_at"}
                             for t in tables["transcripts"]]
    tables["runs"] = rows(db, "select status, files_total, audio_s, options, data_fingerprint "
                              "from runs where run_id = :r", r=run_id)
    return tables


def test_rows_stored_a_few_files_at_a_time_are_those_of_one_batch(toy, tmp_path, monkeypatch):
    # issue 26: import-run reads STAGE_LINES lines and scores FLUSH_FILES files at a time, and
    # raw scores and the fingerprint go by batches too, so memory stays flat
    from asrlens import fingerprint, raw_scores
    from asrlens.infer import import_run as module

    path = write(tmp_path / "h.jsonl", "\n".join([
        *[json.dumps({"utt_id": u, "hypothesis": h}) for u, _r, h in SCRIPT[:5]],
        json.dumps({"utt_id": "U001", "hypothesis": "a second opinion"}),
        json.dumps({"utt_id": "NOPE-1", "hypothesis": "who is this"}),
        "{not json",
        json.dumps({"utt_id": "wavs/U006.wav", "hypothesis": None}),
        json.dumps({"utt_id": "U008", "hypothesis": "a label without audio"}),
    ]) + "\n")
    whole = do_import(toy, path, run_id="whole")
    for name in ("FLUSH_FILES", "STAGE_LINES"):  # 8 files: batches of 2, 2, 2 and 2
        monkeypatch.setattr(module, name, 2)
    monkeypatch.setattr(raw_scores, "BATCH_FILES", 3)
    monkeypatch.setattr(fingerprint, "BATCH_FILES", 3)
    batched = do_import(toy, path, run_id="batched")
    assert len(counts(toy, "whole")) == 6
    assert {kind: len(r) for kind, r in stored(toy, "whole").items()} == {
        "transcripts": 8, "utterance_errors": 6, "alignment_ops": 24, "raw_errors": 6,
        "raw_alignment_ops": 24, "import_issues": 6, "runs": 1}
    assert stored(toy, "batched") == stored(toy, "whole")
    assert batched.issues == whole.issues and len(whole.issues) == 6
    assert batched.issue_counts == whole.issue_counts == {
        "bad_line": 2, "duplicate": 1, "unmatched": 1, "no_hypothesis": 2}


def batched_import(monkeypatch, *, after_store):
    """import-run stores 2 files per transaction; after_store(batches stored, connection) runs
    after each store, before its commit."""
    from asrlens.infer import import_run as module

    monkeypatch.setattr(module, "FLUSH_FILES", 2)
    stores = []
    original = module._Rows.store

    def store(self, conn):
        original(self, conn)
        stores.append(1)
        after_store(len(stores), conn)

    monkeypatch.setattr(module._Rows, "store", store)


def raise_at(batch: int, exc: BaseException):
    """An after_store for batched_import that raises `exc` once `batch` batches are stored."""
    def after_store(batches, conn):
        if batches == batch:
            raise exc
    return after_store


def test_an_import_commits_each_batch_and_says_running_until_the_last(toy, tmp_path,
                                                                     monkeypatch):
    # issue 26: DuckDB holds a transaction's rows in memory until it commits, so a
    # million-file import commits every FLUSH_FILES files; the run says 'running' (owned by
    # this process) until its last commit
    import os

    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["trn"]
    seen = []

    def look(batches, conn):  # another connection sees only what was committed
        with conn.engine.connect() as other:
            seen.append([tuple(r) for r in other.exec_driver_sql(
                "select r.status, r.owner_pid, r.finished_at, "
                "(select count(*) from transcripts t where t.run_id = 'h') "
                "from runs r where r.run_id = 'h'")])

    batched_import(monkeypatch, after_store=look)
    result = do_import(toy, path, run_id="h")
    assert result.files_total == 7
    assert seen == [[("running", os.getpid(), None, n)] for n in (0, 2, 4, 6)]
    assert rows(toy, "select status from runs where run_id = 'h'") == [{"status": "finished"}]


@pytest.mark.parametrize("fault", [KeyboardInterrupt, OSError])
def test_an_import_cut_short_after_its_first_commit_leaves_nothing_of_the_run(
        toy, tmp_path, monkeypatch, fault):
    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["trn"]
    do_import(toy, path, run_id="whole")

    batched_import(monkeypatch, after_store=raise_at(3, fault("stopped")))
    with pytest.raises(fault) as raised:
        do_import(toy, path, run_id="h")
    if fault is KeyboardInterrupt:  # Ctrl-C or SIGTERM: ImportInterrupted says what is left
        assert isinstance(raised.value, ImportInterrupted)
        assert (raised.value.run_id, raised.value.replaced) == ("h", False)
    else:
        assert str(raised.value) == "stopped"
    assert rows(toy, "select count(*) as n from runs where run_id = 'h'")[0]["n"] == 0
    left = {t: rows(toy, f"select count(*) as n from {t} where run_id = 'h'")[0]["n"]
            for t in RUN_TABLES}
    assert left == dict.fromkeys(RUN_TABLES, 0)
    monkeypatch.undo()
    do_import(toy, path, run_id="h")  # the same command again imports it whole
    assert stored(toy, "h") == stored(toy, "whole")


def test_cli_import_run_interrupted_says_nothing_is_stored_and_how_to_import_again(
        toy, tmp_path, monkeypatch):
    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["trn"]
    do_import(toy, path, run_id="h")

    batched_import(monkeypatch, after_store=raise_at(2, KeyboardInterrupt()))
    args = ["import-run", str(path), "--run", "h", "--replace", "--db", str(toy)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 130, result.output
    assert result.output.splitlines()[-1] == (
        "Interrupted (Ctrl-C): nothing of run 'h' is stored (the run it replaces was removed "
        f"when the import began). Import it again with: asrlens {' '.join(args)}")
    assert rows(toy, "select count(*) as n from runs where run_id = 'h'")[0]["n"] == 0


def test_a_replacing_import_of_a_bad_file_keeps_the_run_it_would_replace(toy, tmp_path):
    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["trn"]
    do_import(toy, path, run_id="h")
    before = stored(toy, "h")
    assert before["utterance_errors"]
    bad = write(tmp_path / "h.trn", "hello world (X1)\n")
    with pytest.raises(AsrlensError, match="no line of .* names an utterance"):
        do_import(toy, bad, run_id="h", replace=True)
    assert stored(toy, "h") == before


def test_a_killed_import_is_marked_interrupted_and_imported_again_with_replace(
        toy, tmp_path, monkeypatch):
    # SIGKILL leaves the run 'running' with committed batches; the next command that opens
    # the database finds its process gone and marks it 'interrupted'
    from asrlens.infer import import_run as module

    path = hypotheses_in_every_format(tmp_path, toy_root(toy))["trn"]
    do_import(toy, path, run_id="whole")

    batched_import(monkeypatch, after_store=raise_at(2, SystemExit("killed")))
    monkeypatch.setattr(module, "_discard_run", lambda conn, run_id: None)  # no clean-up
    with pytest.raises(SystemExit):
        do_import(toy, path, run_id="h")
    monkeypatch.undo()
    ended = subprocess.Popen(["true"])  # the killed process: it has ended
    ended.wait()
    engine = connect(toy)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"update runs set owner_pid = {ended.pid} where run_id = 'h'")
    engine.dispose()
    connect(toy).dispose()  # opening the database read-write marks stale runs
    assert rows(toy, "select status from runs where run_id = 'h'") == [
        {"status": "interrupted"}]
    assert rows(toy, "select count(*) as n from transcripts where run_id = 'h'")[0]["n"] == 2
    with pytest.raises(AsrlensError, match=r"run 'h' is an import of .*h.trn that did not "
                                           r"finish \(status interrupted\): pass --replace"):
        do_import(toy, path, run_id="h")
    do_import(toy, path, run_id="h", replace=True)
    assert stored(toy, "h") == stored(toy, "whole")


def test_an_import_lists_the_first_issues_and_counts_them_all(toy, tmp_path, monkeypatch):
    from asrlens.infer import import_run as module

    monkeypatch.setattr(module, "ISSUES_KEPT", 3)
    path = write(tmp_path / "h.trn", "the cat sat (U001)\n")
    result = do_import(toy, path, run_id="one")
    assert result.issue_counts == {"no_hypothesis": 6}
    assert [i.key for i in result.issues] == ["U002", "U003", "U004"]
    assert rows(toy, "select count(*) as n from import_issues")[0]["n"] == 6
    assert "6 issues (no_hypothesis 6):" in "\n".join(result.summary_lines())


def crafted_paths_db(tmp_path: Path) -> Path:
    """Dataset 'paths' under /data/set: two file names shared (x.wav), a stem shared (y), two
    utterances that are spans of one recording (S1, S2); no audio is read."""
    from asrlens.db import insert_rows

    db = tmp_path / "paths.duckdb"
    paths = {"A1": "a/x.wav", "B1": "b/x.wav", "C1": "c/y.wav", "C2": "d/y.flac",
             "D1": "e/z.wav", "S1": "long/rec.wav", "S2": "long/rec.wav"}
    engine = connect(db)
    try:
        with engine.begin() as conn:
            insert_rows(conn, "datasets", [dict(
                name="paths", source="/data/set", root="/data/set", labels_path="labels.csv",
                labels_format="csv", n_labels=len(paths), n_audio=len(paths),
                ingested_at=datetime.datetime(2024, 1, 1))])
            insert_rows(conn, "utterances", [dict(
                dataset="paths", utt_id=u, transcript="hello there", normalized_transcript=None,
                audio_path=p, labels_line=i + 1) for i, (u, p) in enumerate(paths.items())])
    finally:
        engine.dispose()
    return db


def test_a_name_or_stem_of_several_utterances_is_refused_and_paths_are_read_as_pathlib_does(
        tmp_path):
    db = crafted_paths_db(tmp_path)
    path = write(tmp_path / "h.tsv", "".join(f"{key}\thello\n" for key in [
        "x.wav",                   # 1: file name of A1 and B1
        "other/y.wav",             # 2: file name of C1 only
        "y.mp3",                   # 3: stem of C1 and C2
        "e\\z.wav",                # 4: D1's path, written with a backslash
        "/data/set/long/rec.wav",  # 5: the recording of S1 and S2: the last one
        "./a/x.wav",               # 6: A1's path
        "/data//set/b/x.wav",      # 7: B1's path under the root
        "z",                       # 8: D1's stem: a duplicate of line 4
    ]))
    result = do_import(db, path, run_id="p")
    assert result.matched_by == {"file name": 1, "path": 4}
    assert [(i.kind, i.line, i.key, i.message) for i in result.issues] == [
        ("unmatched", 1, "x.wav",
         "file name 'x.wav' names 2 utterances (A1, B1): give the id or the full path"),
        ("unmatched", 3, "y.mp3",
         "stem 'y' names 2 utterances (C1, C2): give the id or the full path"),
        ("duplicate", 8, "z", "second hypothesis for D1 (line 4 is kept)"),
        ("no_hypothesis", None, "C2", f"no hypothesis for C2 in {path}"),
        ("no_hypothesis", None, "S1", f"no hypothesis for S1 in {path}"),
    ]
    assert rows(db, "select utt_id from transcripts where error is null order by utt_id") == [
        {"utt_id": u} for u in ("A1", "B1", "C1", "D1", "S2")]
