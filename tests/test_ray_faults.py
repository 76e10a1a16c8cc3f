"""`asrlens infer --ray` fails as cleanly as a local run (issue 26).

- SIGTERM and Ctrl-C stop a Ray run as they stop a local one: whole files stored, the run
  'interrupted', exit status 143 / 130, the resume command, a progress bar that counted
  stored files only.
- A cluster with token authentication refuses a driver without the token: one error line
  that names it and what to set, within 10 s.
- Two Ray nodes on this machine (`ray start --head` and `ray start --address`, 127.0.0.1
  only): the second is killed mid-run and the run still gives each file the counts of a
  single-process run; Ray's own messages stay out of asrlens's stdout.

Every Ray process a test starts is in a process group of its own, stopped in a finalizer
(SIGTERM, then SIGKILL): nothing is left running, and other Ray clusters on the machine are
left alone (no `ray stop`, which stops every cluster of the user). Private temp dirs
(RAY_TMPDIR, --temp-dir) keep these clusters apart from any other.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import soundfile as sf
from conftest import REPO, rows

from asrlens.db import connect
from asrlens.infer import infer

pytest.importorskip("ray", reason="the ray extra is not installed (make test installs it)")
pytestmark = pytest.mark.slow

RAY = Path(sys.executable).parent / "ray"
CLIPS = 4
COUNTS = """select t.utt_id, t.hyp_norm, t.error, e.hits, e.substitutions, e.deletions,
                   e.insertions
            from transcripts t left join utterance_errors e using (run_id, utt_id)
            where t.run_id = :run order by t.utt_id"""
RAY_NOISE = re.compile(r"\(raylet\)|core_worker\.cc|gcs_client\.cc|\(pid=|WARNING|INFO ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, *, grace_s: float = 40) -> None:
    """SIGTERM the process group of `proc` (a `ray start --block`), SIGKILL what is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def private_env(home: Path, tmp: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RAY_AUTH", "RAY_ADDRESS"))}
    return {**env, "HOME": str(home), "RAY_TMPDIR": str(tmp), "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="module")
def short_tmp():
    """A short private folder (Ray's socket paths must stay under 108 characters)."""
    path = Path(tempfile.mkdtemp(prefix="a26-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def two_nodes(short_tmp):
    """A head (2 CPUs) and a second node (1 CPU) on 127.0.0.1 with token authentication:
    {address, env (with the token), node2 (its Popen), home (holding the token)}."""
    home = short_tmp / "home"
    home.mkdir()
    env = private_env(home, short_tmp / "rt", RAY_AUTH_MODE="token")
    subprocess.run([str(RAY), "get-auth-token", "--generate"], env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    common = ["--node-ip-address", "127.0.0.1", "--temp-dir", str(short_tmp / "rt"),
              "--disable-usage-stats", "--block"]
    started = []
    try:
        head = subprocess.Popen(
            [str(RAY), "start", "--head", "--port", str(port), "--num-cpus", "2",
             "--include-dashboard=false", *common], env=env, start_new_session=True,
            stdout=(short_tmp / "head.log").open("w"), stderr=subprocess.STDOUT)
        started.append(head)
        address = f"127.0.0.1:{port}"
        wait_for_nodes(address, env, 1, head)
        node2 = subprocess.Popen(
            [str(RAY), "start", "--address", address, "--num-cpus", "1", *common], env=env,
            start_new_session=True, stdout=(short_tmp / "node2.log").open("w"),
            stderr=subprocess.STDOUT)
        started.append(node2)
        wait_for_nodes(address, env, 2, node2)
        yield {"address": address, "env": env, "node2": node2, "home": home}
    finally:
        for proc in reversed(started):
            stop_group(proc)


def wait_for_nodes(address: str, env: dict, n: int, proc: subprocess.Popen,
                   timeout_s: float = 240) -> None:
    script = textwrap.dedent(f"""
        import ray, time
        ray.init(address={address!r}, log_to_driver=False)
        deadline = time.time() + {timeout_s}
        while sum(node["Alive"] for node in ray.nodes()) < {n} and time.time() < deadline:
            time.sleep(1)
        print(sum(node["Alive"] for node in ray.nodes()))
    """)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ray start ended with {proc.returncode}")
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=timeout_s + 60)
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1] == str(n):
            return
        time.sleep(2)
    pytest.fail(f"{n} Ray node(s) not up after {timeout_s} s")


@pytest.fixture(scope="module")
def clips_db(tmp_path_factory, sample_dir) -> Path:
    """The CLIPS shortest sample clips, ingested, with a single-process pocketsphinx run."""
    from asrlens.ingest import ingest

    tmp = tmp_path_factory.mktemp("ray-faults")
    root = tmp / "clips"
    (root / "wavs").mkdir(parents=True)
    wavs = sorted(sample_dir.glob("wavs/*.wav"), key=lambda p: sf.info(p).duration)[:CLIPS]
    keep = {p.stem for p in wavs}
    for wav in wavs:
        shutil.copy(wav, root / "wavs")
    lines = (sample_dir / "labels.csv").read_text(encoding="utf-8").splitlines()
    (root / "labels.csv").write_text(
        "".join(f"{line}\n" for line in lines if line.split("|")[0] in keep), encoding="utf-8")
    db = tmp / "clips.duckdb"
    engine = connect(db)
    try:
        ingest(engine, root, name="clips", progress=False)
        infer(engine, engine_name="pocketsphinx", run_id="single", progress=False)
    finally:
        engine.dispose()
    return db


def test_one_of_two_nodes_killed_mid_run_leaves_the_per_file_counts_unchanged(
        two_nodes, clips_db, tmp_path):
    db = tmp_path / "two.duckdb"
    shutil.copy(clips_db, db)
    node2 = two_nodes["node2"].pid
    script = textwrap.dedent(f"""
        import os, signal
        from asrlens.db import connect
        from asrlens.infer import infer
        from asrlens.infer.ray_run import RayExecutor, RayLoop

        receive = RayLoop._receive
        killed = []

        def receive_then_kill_node2(self, rows, *, worker_pid):
            receive(self, rows, worker_pid=worker_pid)
            if not killed:  # after the first batch: the second node, raylet and workers
                on_node2 = os.getpgid(worker_pid) == {node2}
                os.killpg({node2}, signal.SIGKILL)
                killed.append(on_node2)
                print("killed node 2; the recognizer actor ran there:", on_node2)

        RayLoop._receive = receive_then_kill_node2
        engine = connect({str(db)!r})
        result = infer(engine, engine_name="pocketsphinx", run_id="two", progress=False,
                       executor=RayExecutor({two_nodes["address"]!r}, workers=1))
        print("status", result.status, result.files_done, result.files_failed)
    """)
    env = {**two_nodes["env"], "ASRLENS_RAY_LOG": str(tmp_path / "ray.log")}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("killed node 2"), done.stdout
    assert lines[-1] == f"status finished {CLIPS} 0", done.stdout
    assert len(lines) == 2, f"Ray's own lines reached stdout:\n{done.stdout}"
    assert not RAY_NOISE.search(done.stderr), done.stderr
    single = rows(db, COUNTS, run="single")
    assert len(single) == CLIPS
    assert rows(db, COUNTS, run="two") == single


def test_a_cluster_that_wants_a_token_is_named_with_what_to_set_within_10_s(
        two_nodes, clips_db, tmp_path):
    db = tmp_path / "token.duckdb"
    shutil.copy(clips_db, db)
    no_token = tmp_path / "home"
    no_token.mkdir()
    script = textwrap.dedent(f"""
        import time
        from click.testing import CliRunner
        import ray, ray.data
        from asrlens.cli import cli

        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["infer", "--engine", "pocketsphinx", "--ray",
                                          {two_nodes["address"]!r}, "--no-progress",
                                          "--db", {str(db)!r}])
        print(result.exit_code, round(time.perf_counter() - started, 1))
        print(result.output.strip())
    """)
    env = {**private_env(no_token, tmp_path / "rt"), "ASRLENS_RAY_LOG": str(tmp_path / "r.log")}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    status_line, *output = done.stdout.strip().splitlines()
    exit_code, seconds = status_line.split()
    assert exit_code == "1" and float(seconds) < 10, done.stdout
    assert len(output) == 1, done.stdout
    assert output[0].startswith(f"Error: the Ray cluster at {two_nodes['address']} refused "
                                f"this machine: it wants Ray's authentication token")
    assert "RAY_AUTH_MODE=token" in output[0] and "RAY_AUTH_TOKEN" in output[0]
    assert rows(db, "select * from runs where run_id != 'single'") == []
    assert "Unauthenticated" in (tmp_path / "r.log").read_text()  # Ray's words: in its log


def stored_bar_count(log: Path) -> int:
    """Files the progress bar has counted so far (tqdm's 'n/total [')."""
    counts = re.findall(r"(\d+)/\d+ \[", log.read_text(errors="replace"))
    return int(counts[-1]) if counts else 0


@pytest.mark.parametrize(("sig", "status", "name"), [(signal.SIGTERM, 143, "SIGTERM"),
                                                     (signal.SIGINT, 130, "Ctrl-C")])
def test_a_stop_signal_stops_a_ray_run_as_it_stops_a_local_one(
        ingested_db, copy_db, short_tmp, tmp_path, sig, status, name):
    db, log = copy_db(ingested_db), tmp_path / "stderr.txt"
    env = {**private_env(Path.home(), short_tmp / f"local-{name}"),
           "ASRLENS_RAY_LOG": str(tmp_path / "ray.log")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asrlens", "infer", "--engine", "pocketsphinx", "--ray",
         "--db", str(db), "--run", "r", "--no-analyze"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 600
        while stored_bar_count(log) < 1:
            assert proc.poll() is None, f"ended ({proc.returncode}) early:\n{log.read_text()}"
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    counted = stored_bar_count(log)
    assert proc.returncode == status, out + log.read_text()
    assert f"Interrupted ({name}): whole files are saved. Resume with: asrlens infer --run r " \
           f"--db {db}" in out
    assert "Traceback" not in out + log.read_text()
    assert not RAY_NOISE.search(out), f"Ray's own lines reached stdout:\n{out}"
    run = rows(db, "select status from runs where run_id = 'r'")[0]
    assert run["status"] == "interrupted"
    stored = rows(db, "select count(*) as n from transcripts where run_id = 'r'")[0]["n"]
    scored = rows(db, "select count(*) as n from utterance_errors where run_id = 'r'")[0]["n"]
    assert 1 <= counted <= stored < 32 and scored == stored  # the bar never ran ahead
