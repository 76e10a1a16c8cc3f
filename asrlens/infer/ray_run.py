"""`asrlens infer --ray [ADDRESS]`: the same run, with the recognizer on a Ray cluster.

    executor = RayExecutor("ray://head:10001")          # or None / "local": a local cluster
    result = infer(engine, engine_name="wav2vec2", executor=executor)

`infer` (asrlens.infer.run) does everything it does for a single-machine run (run id, resume
plan, runs row, rescoring, final figures) and hands two jobs to the executor: building the
recognizer (here a description of it, taken from one copy built on the cluster) and the loop
that transcribes the files still to do (`RayLoop`). That loop makes those files a Ray Dataset
of the same length-sorted batches as on one machine (`plan_batches`): Ray tasks read and
resample them on CPU, a pool of actors (one per GPU, or one per CPU slot but one when there is
no GPU) each builds the recognizer once and recognizes and scores each batch with the
single-machine loop's own methods (`Loop._start/_collect/_process`, so batching, a failed
batch retried file by file, and error rows are the same), and the driver receives the finished
rows as they stream in and commits them with `Loop.commit`, at least COMMIT_FILES files (or
batch_seconds) at a time: the database keeps one writer.

Ray is an optional extra (`pip install 'asrlens[ray]'`); nothing here imports it before an
executor is made, and the single-machine path never imports this module.

It fails as a local run does: SIGTERM and Ctrl-C stop it with whole files stored (Ray's own
SIGTERM handler, which exits with status 15, is replaced by asrlens's again after connecting);
a cluster that wants an authentication token this machine lacks is named as such; and Ray's
own messages go to a log file (ray_connect.log_file()), not among asrlens's output.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm import tqdm

from asrlens import defaults
from asrlens.errors import AsrlensError
from asrlens.infer.batches import plan_batches
from asrlens.infer.loop import Loop
from asrlens.infer.ray_connect import _first_line, connect
from asrlens.infer.readahead import _load, _Loaded, _LoadedBatch, _with_duration
from asrlens.scoring.normalize import get_normalizer

LOCAL = "local"  # --ray without ADDRESS: start a cluster on this machine
INSTALL_HINT = "pip install 'asrlens[ray]'"
MAX_BLOCKS = 1000  # dataset blocks (units of work of the reading tasks) at most
# CPU share of one reading task. It differs from an actor's (1 CPU), which also keeps Ray Data
# from fusing the reading into the actors: reading runs beside recognition, not before it.
READ_CPUS = 0.5
# Files per commit at least (or every batch_seconds): the driver's write rate grows with the
# commit size, 279-335 files/s at 8, 3,240-4,865 at 512, 4,835-5,489 at 2,048 (BENCHMARKS.md,
# "Ray: a cluster and its driver").
COMMIT_FILES = 2048
RECORDED = ("name", "model", "precision", "device", "checkpoint", "checkpoint_sha256",
            "sample_rate")


def import_ray():
    """The ray module, or AsrlensError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library comes with the [data] extra
    except ImportError as exc:
        raise AsrlensError(f"--ray needs Ray, which is not installed ({exc}): "
                           f"{INSTALL_HINT}") from None
    return ray


@dataclass(frozen=True)
class RecognizerSpec:
    """How to build the recognizer on a worker: the arguments of `get_recognizer`."""

    engine_name: str
    model: str | None
    checkpoint: str | None
    device: str
    precision: str | None
    engine_options: dict = field(default_factory=dict)
    batch_audio_s: float | None = None  # the run's batch size, once infer has chosen it

    def build(self):
        from asrlens.infer.recognizers import get_recognizer

        recognizer = get_recognizer(self.engine_name, model=self.model,
                                    checkpoint=self.checkpoint, device=self.device,
                                    precision=self.precision, **self.engine_options)
        if self.batch_audio_s is not None:
            recognizer.use_batches(self.batch_audio_s)
        return recognizer


class ClusterRecognizer:
    """What `infer` needs to know of the recognizer, as built on a worker of the cluster.

    It does not recognize: `RayLoop` sends the work to actors built from `spec`. Its
    options() add where the run ran: executor 'ray', the cluster, the number of workers
    (actors) and of GPUs they hold.
    """

    def __init__(self, spec: RecognizerSpec, described: dict, *, cluster: str, workers: int,
                 gpus_per_worker: float):
        self.spec = spec
        for name in RECORDED:
            setattr(self, name, described[name])
        self._options = described["options"]
        self._batch_audio_s = described["batch_audio_s"]
        self.cluster = cluster
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker

    def options(self) -> dict:
        return {**self._options, "executor": "ray", "cluster": self.cluster,
                "workers": self.workers, "gpus": self.workers * self.gpus_per_worker}

    def default_batch_audio_s(self) -> float:
        return self._batch_audio_s

    def use_batches(self, batch_audio_s: float) -> None:
        """The actors build their recognizers told the run's batch size; a size other than
        the default one it was described with is described again (whisper's options say
        whether its batched pipeline runs)."""
        self.spec = replace(self.spec, batch_audio_s=batch_audio_s)
        if batch_audio_s != self._batch_audio_s:
            ray = import_ray()
            self._options = _remote_error(lambda: ray.get(
                ray.remote(num_cpus=1, num_gpus=self.gpus_per_worker)(_describe)
                .remote(self.spec)))["options"]


class RayExecutor:
    """Runs `infer`'s recognition on a Ray cluster: `address`, or a local one (None, 'local').

    `workers` fixes the number of recognizer actors (default: one per GPU of the cluster
    when the recognizer uses one, else one per CPU but one, which the reading tasks use).
    `num_cpus` sizes a local cluster (default: all cores). Ray is connected to only when
    there is work (`recognizer`), so a finished run is not sent anywhere.
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None,
                 num_cpus: int | None = None):
        import_ray()
        self.address = None if address in (None, LOCAL) else address
        self.workers = workers
        self.num_cpus = num_cpus

    def recognizer(self, engine_name: str, *, model=None, checkpoint=None, device=defaults.DEVICE,
                   precision=None, **engine_options) -> ClusterRecognizer:
        """Connect, build the recognizer once on a worker to describe it, size the pool."""
        ray = self._connect()
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0)) if device != "cpu" else 0
        # each actor sees the one GPU Ray gives it: 'cuda:N' of this machine means nothing there
        worker_device = "cuda" if str(device).startswith("cuda") else device
        spec = RecognizerSpec(engine_name, model, checkpoint, worker_device, precision,
                              dict(engine_options))
        described = _remote_error(lambda: ray.get(
            ray.remote(num_cpus=1, num_gpus=1 if gpus else 0)(_describe).remote(spec)))
        on_gpu = str(described["device"]).startswith("cuda")
        workers = self.workers or (gpus if on_gpu else max(1, int(resources["CPU"]) - 1))
        return ClusterRecognizer(spec, described, cluster=self.address or LOCAL,
                                 workers=workers, gpus_per_worker=1 if on_gpu else 0)

    def loop(self, engine, **kwargs) -> RayLoop:
        return RayLoop(engine, **kwargs)

    def _connect(self):
        ray = import_ray()
        if not ray.is_initialized():  # else a cluster this process joined already (tests)
            connect(ray, self.address, num_cpus=self.num_cpus)
        return ray



class RayLoop(Loop):
    """The single-machine loop with `run` spread over a Ray cluster; commits stay here."""

    def run(self, todo: list, *, progress: bool) -> None:
        ray = import_ray()
        recognizer: ClusterRecognizer = self.recognizer
        chunk_s = recognizer.options().get("chunk_s") or float("inf")
        if self.batch_audio_s > 0:
            todo = [_with_duration(utt) for utt in todo]
        batches = plan_batches(todo, max_audio_s=self.batch_audio_s, alone_over_s=chunk_s)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # ours shows files, audio and x real time
        context.print_on_execution_start = False
        dataset = (
            ray.data.from_items([{"batch": pickle.dumps(b)} for b in batches],
                                override_num_blocks=min(len(batches), MAX_BLOCKS))
            .map(_read, fn_kwargs={"sample_rate": recognizer.sample_rate}, num_cpus=READ_CPUS)
            .map_batches(
                RecognizerActor, batch_size=1, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=recognizer.workers),
                num_cpus=1, num_gpus=recognizer.gpus_per_worker,
                fn_constructor_kwargs={"spec": recognizer.spec, "run_id": self.run_id,
                                       "normalizer": self.normalizer.name,
                                       "alignment": self.alignment},
            )
        )
        self._last_commit = time.perf_counter()
        self._audio_s = 0.0
        with tqdm(total=len(todo), unit="file", desc=self.run_id, disable=not progress,
                  file=sys.stderr, dynamic_ncols=True) as bar:
            self._bar = bar
            _remote_error(lambda: self._drain(dataset))
        self.commit()

    def _drain(self, dataset) -> None:
        rows = iter(dataset.iter_rows())
        try:
            for row in rows:
                self._receive(pickle.loads(row["rows"]), worker_pid=int(row["pid"]))
        finally:  # on Ctrl-C or an error too: stop the pipeline, free its actors and CPUs
            rows.close()

    def _receive(self, rows: list[dict], *, worker_pid: int) -> None:
        """One recognized batch from a worker: queue its rows, commit every few files."""
        self.pending += rows
        failed = sum(1 for r in rows if r["transcript"]["error"] is not None)
        self.files_failed += failed
        self.files_done += len(rows) - failed
        self._audio_s += sum(r["transcript"]["audio_s"] or 0.0 for r in rows)
        if (len(self.pending) >= max(self.batch_files, COMMIT_FILES)
                or time.perf_counter() - self._last_commit >= self.batch_seconds):
            self.commit()
            self._last_commit = time.perf_counter()

    def commit(self) -> None:
        """Store the pending files; the progress bar counts files once they are stored."""
        stored = len(self.pending)
        super().commit()
        bar = getattr(self, "_bar", None)
        if bar is not None and stored:
            wall = time.perf_counter() - self.started
            bar.set_postfix(audio_h=f"{self._audio_s / 3600:.3f}",
                            x_rt=f"{self._audio_s / wall:.1f}" if wall else "-", refresh=False)
            bar.update(stored)


class RecognizerActor:
    """One worker of the pool: builds the recognizer once, recognizes and scores batches."""

    def __init__(self, *, spec: RecognizerSpec, run_id: str, normalizer: str, alignment: str):
        self.loop = Loop(None, run_id=run_id, recognizer=spec.build(),
                          normalizer=get_normalizer(normalizer), batch_files=1,
                          batch_seconds=0.0, prefetch_files=0, wall_before=0.0,
                          started=time.perf_counter(), alignment=alignment)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for blob in batch["loaded"]:
            items: list[_Loaded] = pickle.loads(blob)
            prepared = self.loop._prepare(items)
            results, _audio_s = self.loop._collect(
                self.loop._start(_LoadedBatch(items, prepared)))
            out.append(pickle.dumps([self.loop._process(*result) for result in results]))
        return {"rows": np.array(out, dtype=object),
                "pid": np.full(len(out), os.getpid(), dtype=np.int64)}


def _read(row: dict, *, sample_rate: int) -> dict:
    """Ray task: read and resample one batch's files (a failure becomes the file's error)."""
    import torch

    torch.set_num_threads(1)  # resampling: one core per reading task (see BENCHMARKS.md)
    batch = pickle.loads(row["batch"])
    return {"loaded": pickle.dumps([_load(utt, sample_rate) for utt in batch])}


def _describe(spec: RecognizerSpec) -> dict:
    """Ray task: build the recognizer on a worker and say what it is."""
    recognizer = spec.build()
    if spec.batch_audio_s is None:
        recognizer.use_batches(recognizer.default_batch_audio_s())
    described = {name: getattr(recognizer, name) for name in RECORDED}
    described["device"] = str(described["device"])
    described["checkpoint"] = (None if described["checkpoint"] is None
                               else str(described["checkpoint"]))
    described["options"] = recognizer.options()
    described["batch_audio_s"] = recognizer.default_batch_audio_s()
    return described


def _remote_error(call):
    """call(); an error raised on the cluster becomes AsrlensError (its first line)."""
    import ray.exceptions

    try:
        return call()
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
        if isinstance(cause, AsrlensError):
            raise AsrlensError(str(cause).splitlines()[0]) from None
        raise AsrlensError(f"the Ray cluster failed: {_first_line(cause)}; the files "
                           f"stored so far are kept: run the same command to resume") from None
    except ray.exceptions.RayError as exc:
        raise AsrlensError(f"the Ray cluster failed: {_first_line(exc)}; the files stored "
                           f"so far are kept: run the same command to resume") from None

