"""Joining a Ray cluster for `asrlens infer --ray`, so that it fails as clearly as a local run.

    connect(ray, "HEAD:6379")        # or None: start a local cluster
    # from here on Ray's own output goes to log_file(), asrlens's to the terminal

- An ADDRESS that does not answer within CONNECT_TIMEOUT_S is one error line at once.
- A cluster with token authentication (Ray's default for `ray.init()` clusters since 2.5x)
  that refuses this machine's token is named as such, with the variables to set, after
  GCS_ATTEMPTS seconds rather than Ray's 20 attempts and a bare "Failed to connect".
- Ray's SIGTERM handler (exit status 15 on the spot) is replaced by asrlens's again, so a
  stopped run commits its whole files and is marked 'interrupted' as a local one is.
- Ray's messages (its loggers, its C++ core's warnings, the raylet's errors it prints) are
  appended to log_file() (ASRLENS_RAY_LOG, else $TMPDIR/asrlens-ray.log) instead of landing
  among the run's summary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from asrlens.errors import AsrlensError

CONNECT_TIMEOUT_S = 10.0  # an ADDRESS that does not answer within this is an error
GCS_ATTEMPTS = 3
"""ray.init's attempts (about 1 s apart) to talk to a cluster that answered: Ray's own default,
20, made a refused token an error after 32 s."""
LOG_FILE_ENV = "ASRLENS_RAY_LOG"
DEFAULT_LOG_FILE = Path(tempfile.gettempdir()) / "asrlens-ray.log"
AUTH_REFUSED = re.compile(r"Unauthenticated|InvalidAuthToken|AuthenticationError|"
                          r"authentication token", re.IGNORECASE)
AUTH_HELP = ("set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN to the cluster's token (or put it in "
             "~/.ray/auth_token; RAY_AUTH_TOKEN_PATH names another file): `ray get-auth-token` "
             "on the head node prints it")


def log_file() -> Path:
    """Where Ray's own messages go (appended): $ASRLENS_RAY_LOG, else DEFAULT_LOG_FILE."""
    return Path(os.environ.get(LOG_FILE_ENV) or DEFAULT_LOG_FILE)


def connect(ray, address: str | None, *, num_cpus: int | None = None) -> None:
    """ray.init for `address` (None: a local cluster of `num_cpus`); AsrlensError when it fails."""
    if address is not None:
        _check_reachable(address)
    where = address or "this machine"
    path = log_file()
    log_to_file(path)
    on_sigterm = signal.getsignal(signal.SIGTERM)
    log_start = path.stat().st_size if path.exists() else 0
    try:
        with stderr_to(path), _env(RAY_gcs_server_port_wait_time_s=str(GCS_ATTEMPTS)):
            if address is None:
                ray.init(num_cpus=num_cpus, include_dashboard=False,
                         logging_level=logging.WARNING, log_to_driver=False)
            else:
                ray.init(address=address, logging_level=logging.WARNING,
                         log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        if _auth_refused(exc) or AUTH_REFUSED.search(_read_from(path, log_start)):
            mode = os.environ.get("RAY_AUTH_MODE", "unset")
            raise AsrlensError(f"the Ray cluster at {where} refused this machine: it wants "
                               f"Ray's authentication token, and RAY_AUTH_MODE is {mode} here "
                               f"or the token is missing or another: {AUTH_HELP}") from None
        raise AsrlensError(f"cannot start or reach a Ray cluster at {where}: "
                           f"{_first_line(exc)} (Ray's log: {path})") from None
    finally:
        # ray.init installs a SIGTERM handler that exits with status 15 on the spot: put
        # back asrlens's, which stops the run as Ctrl-C does (whole files, 'interrupted')
        with contextlib.suppress(ValueError):  # not the main thread: nothing was changed
            signal.signal(signal.SIGTERM, on_sigterm)
    log_to_file(path)  # ray.init gave its loggers a terminal handler again
    keep_ray_output_in(path)


def log_to_file(path: Path) -> None:
    """Ray's Python loggers write to `path` (appended) instead of the terminal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = None
    for name in ("ray", "ray.data"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            if isinstance(old, logging.StreamHandler) and not isinstance(
                    old, logging.FileHandler):
                logger.removeHandler(old)
        if not any(isinstance(h, logging.FileHandler) and h.baseFilename == str(path.resolve())
                   for h in logger.handlers):
            if handler is None:
                handler = logging.FileHandler(path, encoding="utf-8")
                handler.setFormatter(
                    logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
        logger.propagate = False


_RAY_PREFIX = re.compile(r"^(\x1b\[[0-9;]*m)?\((raylet|pid=|\w+ pid=)")
"""The prefix Ray gives the lines it forwards from its processes: '(raylet)', '(pid=123)',
'(MapWorker pid=123)', with or without a colour code."""


class _RayThreadsToLog:
    """A stand-in for sys.stdout / sys.stderr: what Ray's own threads write (the raylet's
    messages, worker logs: thread names 'ray_...') goes to the log, the rest to `stream`."""

    def __init__(self, stream, log):
        self._stream = stream
        self._log = log

    def write(self, text: str) -> int:
        if (threading.current_thread().name.startswith("ray_")
                or _RAY_PREFIX.match(text)):  # e.g. '(raylet) ...' printed while shutting down
            self._log.write(text)
            self._log.flush()
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name):  # flush, fileno, isatty, encoding...: the real stream's
        return getattr(self._stream, name)


def keep_ray_output_in(path: Path) -> None:
    """From now on in this process, Ray's output goes to `path`, asrlens's to the terminal.

    Ray's C++ core writes warnings to file descriptor 2: when sys.stderr is that descriptor,
    descriptor 2 becomes the log file and Python's sys.stderr a copy of the terminal's.
    Ray's Python threads print to sys.stdout/sys.stderr: _RayThreadsToLog sends them on.
    """
    if isinstance(sys.stderr, _RayThreadsToLog):
        return
    log = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - lives on
    stderr = sys.stderr
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no descriptor: leave it
        if stderr.fileno() == 2:
            stderr.flush()
            terminal = os.dup(2)
            os.dup2(log.fileno(), 2)
            stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding,
                               errors="backslashreplace")
    sys.stdout = _RayThreadsToLog(sys.stdout, log)
    sys.stderr = _RayThreadsToLog(stderr, log)


@contextlib.contextmanager
def stderr_to(path: Path):
    """Within the block, file descriptor 2 (where Ray's C++ core logs while it connects) goes
    to `path`; Python's own sys.stderr is flushed first and is back afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _env(**values: str):
    """Environment variables set for the block unless the user set them already."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _read_from(path: Path, offset: int) -> str:
    """What was appended to `path` since it was `offset` bytes long ('' when unreadable)."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _auth_refused(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the cluster refused for want of a token."""
    seen = exc
    while seen is not None:
        if type(seen).__name__ == "AuthenticationError" or AUTH_REFUSED.search(str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _check_reachable(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """AsrlensError at once when HOST:PORT (or ray://HOST:PORT) does not answer: ray.init
    would retry for minutes. Other forms ('auto') are left to Ray."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise AsrlensError(f"cannot reach a Ray cluster at {address} ({exc}): start one there "
                           f"with `ray start --head`, or check the address") from None


def _first_line(exc: BaseException, *, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]
