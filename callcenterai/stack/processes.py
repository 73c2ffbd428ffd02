"""Starting, finding and stopping the stack's processes, each the leader of its own process group.

A service may start children (``mlflow server`` runs uvicorn), so a service is
stopped by signalling its whole group. A pid is only trusted with the start time
recorded beside it: after a reboot or a long while the same number may be
another program, which ``down`` must never signal.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import httpx

from callcenterai.stack.layout import HOST

GRACE_SECONDS = 10.0  # after SIGTERM, before SIGKILL
# httpx logs every request at INFO: the readiness polls would fill the terminal.
logging.getLogger("httpx").setLevel(logging.WARNING)
PROC = Path("/proc")


def start_ticks(pid: int) -> int | None:
    """When the process began (clock ticks since boot, /proc/<pid>/stat field 22); None if gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    return None if fields[0] == "Z" else int(fields[19])


def is_running(pid: int, ticks: int | None) -> bool:
    """The process we started is still there (not a zombie, not another program with its pid)."""
    if not PROC.is_dir():  # no /proc: trust the pid alone
        return _signal_reaches(pid)
    return ticks is not None and start_ticks(pid) == ticks


def no_process_has(pid: int) -> bool:
    return not (PROC / str(pid)).exists() if PROC.is_dir() else not _signal_reaches(pid)


def group_members(group: int) -> list[int]:
    """The living (not zombie) processes of a process group."""
    if not PROC.is_dir():
        return [group] if _signal_reaches(-group) else []
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def _signal_reaches(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def port_is_free(port: int) -> bool:
    """Whether a server could bind the port on loopback now (as uvicorn would, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def launch(command: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    """Start ``command`` in its own session (so its own process group), output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as output:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def answers_ready(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def stop_groups(groups: Iterable[int], grace: float = GRACE_SECONDS) -> list[int]:
    """SIGTERM each group, SIGKILL what is left after ``grace``; the groups still alive after that."""
    groups = list(groups)
    _signal_groups(groups, signal.SIGTERM)
    left = _wait_until_empty(groups, grace)
    if left:
        _signal_groups(left, signal.SIGKILL)
        left = _wait_until_empty(left, grace)
    return left


def _signal_groups(groups: Iterable[int], signum: int) -> None:
    for group in groups:
        try:
            os.killpg(group, signum)
        except ProcessLookupError:
            pass


def _wait_until_empty(groups: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = [group for group in groups if group_members(group)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def log_tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(the log is empty)"
