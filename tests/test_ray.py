"""`asrlens infer --ray`: the same run on a Ray cluster, stored by one writer, same numbers.

All tests share one local cluster of 2 CPUs (module fixture) and a dataset of the four
shortest sample clips plus one file broken after ingest. A Ray run must give each file the
counts a single-process run gives it, with pocketsphinx and with wav2vec2 (placeholder
weights); a worker killed mid-run must leave a run that resumes to the same numbers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import REPO, rows

from asrlens.cli import cli
from asrlens.db import connect
from asrlens.infer import RunInterrupted, infer

ray = pytest.importorskip("ray", reason="the ray extra is not installed (make test installs it)")
from asrlens.infer.ray_run import RayExecutor, RayLoop  # noqa: E402 - after the skip

pytestmark = pytest.mark.slow

CLIPS = 4  # the shortest sample clips, 10.8 s of audio
BROKEN = "LJ001-0020"  # ingested whole, then overwritten: reading it fails
COUNTS = """select t.utt_id, t.hyp_norm, t.error, e.hits, e.substitutions, e.deletions,
                   e.insertions
            from transcripts t left join utterance_errors e using (run_id, utt_id)
            where t.run_id = :run order by t.utt_id"""


@pytest.fixture(scope="module")
def cluster(placeholder_torch_home):
    """One local Ray cluster for the module (TORCH_HOME set first: the workers inherit it)."""
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def small_db(tmp_path_factory, sample_dir) -> Path:
    """The CLIPS shortest sample clips and BROKEN, ingested; then BROKEN's audio is garbage."""
    from asrlens.ingest import ingest

    tmp = tmp_path_factory.mktemp("ray")
    root = tmp / "small"
    (root / "wavs").mkdir(parents=True)
    wavs = sorted(sample_dir.glob("wavs/*.wav"), key=lambda p: sf.info(p).duration)
    keep = {p.stem for p in wavs[:CLIPS]} | {BROKEN}
    for stem in keep:
        shutil.copy(sample_dir / "wavs" / f"{stem}.wav", root / "wavs")
    lines = (sample_dir / "labels.csv").read_text(encoding="utf-8").splitlines()
    (root / "labels.csv").write_text(
        "".join(f"{line}\n" for line in lines if line.split("|")[0] in keep), encoding="utf-8")
    db = tmp / "small.duckdb"
    engine = connect(db)
    try:
        ingest(engine, root, name="small", progress=False)
    finally:
        engine.dispose()
    (root / "wavs" / f"{BROKEN}.wav").write_bytes(b"RIFF, but not audio")
    return db


def run(db: Path, **kwargs):
    engine = connect(db)
    try:
        return infer(engine, progress=False, **kwargs)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sphinx_db(small_db, cluster, tmp_path_factory) -> Path:
    """small_db with two pocketsphinx runs: 'single' (one process) and 'ray' (CLI --ray)."""
    db = tmp_path_factory.mktemp("sphinx-ray") / "sphinx.duckdb"
    shutil.copy(small_db, db)
    run(db, engine_name="pocketsphinx", run_id="single")
    result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--run", "ray",
                                      "--ray", "--no-progress", "--no-analyze", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def summary(db: Path, run_id: str) -> dict:
    return rows(db, "select * from run_summary where run_id = :run", run=run_id)[0]


def test_a_ray_run_gives_each_file_the_counts_of_a_single_process_run(sphinx_db):
    single = rows(sphinx_db, COUNTS, run="single")
    assert len(single) == CLIPS + 1 and sum(r["error"] is None for r in single) == CLIPS
    assert rows(sphinx_db, COUNTS, run="ray") == single
    assert summary(sphinx_db, "ray")["wer"] == summary(sphinx_db, "single")["wer"]
    assert summary(sphinx_db, "ray")["files_scored"] == CLIPS


def test_a_ray_run_stores_alignments_and_words_like_a_single_process_run(sphinx_db):
    for table, order in (("alignment_ops", "utt_id, op_index"),
                         ("hyp_words", "utt_id, word_index")):
        sql = f"select * exclude (run_id) from {table} where run_id = :run order by {order}"
        single = rows(sphinx_db, sql, run="single")
        assert single, table
        assert rows(sphinx_db, sql, run="ray") == single


def test_a_file_that_cannot_be_read_is_recorded_and_the_ray_run_goes_on(sphinx_db):
    broken = rows(sphinx_db, "select * from transcripts where utt_id = :utt and run_id = 'ray'",
                  utt=BROKEN)[0]
    assert broken["hyp_raw"] is None and BROKEN in broken["error"]
    assert summary(sphinx_db, "ray")["status"] == "finished"


def test_runs_options_record_the_ray_executor_workers_and_devices(sphinx_db):
    options = {r["run_id"]: r["options"] for r in rows(sphinx_db, "select * from runs")}
    assert options["ray"]["executor"] == "ray" and options["ray"]["cluster"] == "local"
    # 2 CPUs: one actor recognizes, the other CPU reads
    assert options["ray"]["workers"] == 1 and options["ray"]["gpus"] == 0
    assert "executor" not in options["single"]


def test_wav2vec2_on_ray_gives_the_transcripts_of_a_single_process_run(
        small_db, cluster, placeholder_checkpoint, tmp_path):
    db = tmp_path / "w2v.duckdb"
    shutil.copy(small_db, db)
    settings = {"engine_name": "wav2vec2", "checkpoint": str(placeholder_checkpoint),
                "device": "cpu", "limit": 3}
    run(db, run_id="single", **settings)
    run(db, run_id="ray", executor=RayExecutor(), **settings)
    assert rows(db, COUNTS, run="ray") == rows(db, COUNTS, run="single")
    assert summary(db, "ray")["wer"] == summary(db, "single")["wer"]


def test_whisper_on_ray_gives_the_transcripts_words_and_segments_of_a_single_process_run(
        small_db, cluster, tmp_path):
    pytest.importorskip("faster_whisper", reason="the whisper extra is not installed")
    db = tmp_path / "whisper.duckdb"
    shutil.copy(small_db, db)
    settings = {"engine_name": "whisper", "device": "cpu"}
    run(db, run_id="single", **settings)
    run(db, run_id="ray", executor=RayExecutor(), **settings)
    single = rows(db, COUNTS, run="single")
    assert sum(r["error"] is None and bool(r["hyp_norm"]) for r in single) == CLIPS
    assert rows(db, COUNTS, run="ray") == single
    for table, order in (("hyp_words", "utt_id, word_index"),
                         ("hyp_segments", "utt_id, segment_index")):
        sql = f"select * exclude (run_id) from {table} where run_id = :run order by {order}"
        assert len(rows(db, sql, run="single")) >= CLIPS
        assert rows(db, sql, run="ray") == rows(db, sql, run="single")
    options = {r["run_id"]: r["options"] for r in rows(db, "select * from runs")}
    assert options["ray"]["executor"] == "ray" and options["ray"]["workers"] == 1
    # one actor with one CPU: CTranslate2 uses the one thread Ray gives it
    assert options["ray"]["cpu_threads"] == 1
    assert options["ray"]["decode"] == options["single"]["decode"]


def test_a_worker_killed_mid_run_leaves_a_run_that_resumes_to_the_same_numbers(
        sphinx_db, tmp_path, monkeypatch):
    db = tmp_path / "killed.duckdb"
    shutil.copy(sphinx_db, db)
    killed = []
    receive = RayLoop._receive

    def kill_the_worker_then_stop(self, rows_, *, worker_pid):
        """First batch: kill its worker's process; second: Ctrl-C on the driver."""
        receive(self, rows_, worker_pid=worker_pid)
        if not killed:
            os.kill(worker_pid, signal.SIGKILL)
            killed.append(worker_pid)
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(RayLoop, "_receive", kill_the_worker_then_stop)
    with pytest.raises(RunInterrupted) as stopped:  # Ray restarted the actor, then Ctrl-C
        run(db, engine_name="pocketsphinx", run_id="killed", executor=RayExecutor())
    assert killed and stopped.value.result.status == "interrupted"
    stored = len(rows(db, "select * from transcripts where run_id = 'killed'"))
    assert stored == 2  # whole files only: the batch of the killed worker and the next

    monkeypatch.setattr(RayLoop, "_receive", receive)
    resumed = run(db, run_id="killed", executor=RayExecutor())
    assert resumed.status == "finished"
    assert (resumed.files_skipped, resumed.files_done + resumed.files_failed) == (2, CLIPS - 1)
    assert rows(db, COUNTS, run="killed") == rows(db, COUNTS, run="single")
    assert summary(db, "killed")["wer"] == summary(db, "single")["wer"]


def test_without_ray_installed_ray_says_how_to_install_it(small_db, tmp_path, monkeypatch):
    db = tmp_path / "no-ray.duckdb"
    shutil.copy(small_db, db)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--ray",
                                      "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --ray needs Ray, which is not installed")
    assert result.output.rstrip().endswith("pip install 'asrlens[ray]'")
    assert len(result.output.strip().splitlines()) == 1
    assert rows(db, "select * from runs") == []


def test_the_single_machine_path_does_not_import_ray(small_db, tmp_path):
    db = tmp_path / "plain.duckdb"
    shutil.copy(small_db, db)
    script = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from asrlens.cli import cli
        result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--limit", "1",
                                          "--no-progress", "--no-analyze", "--db", {str(db)!r}])
        assert result.exit_code == 0, result.output
        print("ray imported" if "ray" in sys.modules else "ray not imported")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ray not imported"


def test_an_address_where_no_cluster_answers_is_one_error_line(small_db, tmp_path,
                                                                monkeypatch):
    db = tmp_path / "nowhere.duckdb"
    shutil.copy(small_db, db)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # not the module's cluster
    result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--ray",
                                      "127.0.0.1:1", "--no-progress", "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach a Ray cluster at 127.0.0.1:1 (")
    assert rows(db, "select * from runs") == []
