"""Which process owns a run, and whether it is still alive.

    owner = current_owner()     # {'owner_pid': ..., 'owner_host': ..., 'owner_started_at': ...}
    is_alive(owner)             # True for this process
    is_stale(run)               # a runs row saying 'running' whose process is gone

`asrlens infer` records its process in `runs` when it starts or resumes a run. A process
killed with SIGKILL (or a machine losing power) cannot mark its run, which then says
'running' forever. A run is *stale* when it says 'running' but its process is gone: no
process with that pid, a zombie, or a pid reused by a process that started at another time.
Commands that open the database read-write mark stale runs 'interrupted' (mark_stale_runs
in asrlens.db, which imports this module: it sits below the database layer); read-only ones
(report, doctor) show them as 'stale'. A run owned by a process on another host cannot be
checked from here and is taken as alive.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

START_TIME_TOLERANCE = timedelta(seconds=5)
"""Two readings of one process's start time differ by rounding (and clock adjustments) only."""


def current_owner() -> dict:
    """This process as a run's owner: the runs columns owner_pid, owner_host, owner_started_at."""
    pid = os.getpid()
    return {"owner_pid": pid, "owner_host": socket.gethostname(),
            "owner_started_at": process_started_at(pid)}


def is_alive(owner: dict) -> bool | None:
    """Whether the process described by `owner` (runs columns) still runs; None: another host."""
    pid, host = owner.get("owner_pid"), owner.get("owner_host")
    if pid is None:
        return False  # recorded by an asrlens older than schema v3, or never started
    if host is not None and host != socket.gethostname():
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    if _is_zombie(pid):
        return False
    started, recorded = process_started_at(pid), owner.get("owner_started_at")
    if started is not None and recorded is not None:
        return abs(started - recorded) <= START_TIME_TOLERANCE
    return True


def is_stale(run: dict) -> bool:
    """A run row that says 'running' while its process is gone."""
    return run.get("status", "running") == "running" and is_alive(run) is False


def shown_status(run: dict) -> str:
    """The status to show for a runs row: 'stale' for a stale run, else its status."""
    return "stale" if is_stale(run) else run["status"]


def process_started_at(pid: int) -> datetime | None:
    """When process `pid` started (UTC, naive), from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat(5): start time in clock ticks after boot
        seconds = _boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@cache
def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


_LOCK_PID = re.compile(r"\(PID (\d+)\)")

COMMAND_SHOWN_CHARS = 120
"""Characters of the lock holder's command line shown in the one-line message."""


def lock_holder(message: str) -> str | None:
    """Who holds a database, from DuckDB's lock error ('Conflicting lock is held in ... (PID
    n)'): its command (asrlens infer --run NAME ...), pid and start time; None when the
    message names no pid."""
    match = _LOCK_PID.search(message)
    if not match:
        return None
    pid = int(match[1])
    command = _asrlens_command(pid)
    started = process_started_at(pid)
    since = f", since {started:%Y-%m-%d %H:%M:%S} UTC" if started else ""
    run = _option(command, "--run")
    what = f"run {run}: " if run else ""
    shown = shlex.join(command) if command else "a process"
    if len(shown) > COMMAND_SHOWN_CHARS:
        shown = shown[:COMMAND_SHOWN_CHARS - 1] + "…"
    return f"{what}`{shown}` (pid {pid}{since})"


def _asrlens_command(pid: int) -> list[str]:
    """The command line of `pid`, as `asrlens ARGS` when it runs asrlens; [] if unknown."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return []
    args = [a for a in argv.split("\0") if a]
    for i, arg in enumerate(args):
        if arg == "asrlens" and i > 0 and args[i - 1] == "-m" or (
                os.path.basename(arg) == "asrlens" and i == 0):
            return ["asrlens", *args[i + 1:]]
    return args


def _option(command: list[str], name: str) -> str | None:
    for i, arg in enumerate(command):
        if arg == name and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None
