"""Processes the fault suite breaks on purpose: each on a fixed port, so it can be killed, frozen,
stopped and started again where its clients expect it.

A process stopped with SIGSTOP is the honest "accepts connections, never answers": its
listening socket stays open in the kernel and nothing reads from it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from callcenterai.config import PROJECT_ROOT
from tests.helpers import free_port, run_as_postgres

HOST = "127.0.0.1"


def wait_until(check, what: str, seconds: float = 90, every: float = 0.2) -> float:
    """Call ``check`` until it is true; the seconds it took (the test fails past ``seconds``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"gave up waiting for {what} after {seconds:.0f} s")
        time.sleep(every)
    return time.monotonic() - started


def answers_200(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Proc:
    """One server process (its own session, so SIGKILL and SIGSTOP reach its workers too)."""

    def __init__(self, name: str, command: list, env: dict, folder: Path, ready_path: str, port: int):
        self.name, self.command, self.env, self.folder = name, [str(c) for c in command], env, folder
        self.port, self.ready_path = port, ready_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self, seconds: float = 120) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + seconds
        while not answers_200(self.url + self.ready_path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal(self, sig: int) -> None:
        if self.running:
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def terminate(self, grace: float = 30) -> int | None:
        """SIGTERM (a graceful stop), SIGKILL after ``grace`` seconds; the exit status."""
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.returncode

    def freeze(self, frozen: bool) -> None:
        self._signal(signal.SIGSTOP if frozen else signal.SIGCONT)


def uvicorn_proc(name: str, module: str, env: dict, folder: Path) -> Proc:
    port = free_port()
    app = f"services.{module}.app:app"
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", port, "--no-access-log"]
    return Proc(name, command, env, folder, "/ready", port)


def mlflow_proc(project: Path, folder: Path) -> Proc:
    """A real `mlflow server` over the project's store; its metrics for Prometheus in ``folder``."""
    port = free_port()
    command = [sys.executable, PROJECT_ROOT / "scripts" / "mlflow_server.py", "--port", port]
    command += ["--backend-store-uri", f"sqlite:///{project / 'mlflow.db'}"]
    command += ["--artifacts-destination", project / "artifacts"]
    command += ["--expose-prometheus", folder / "mlflow-metrics"]
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    return Proc("mlflow", command, {"PATH": path}, folder, "/health", port)


def prometheus_proc(config: Path, folder: Path, port: int) -> Proc:
    command = ["/usr/bin/prometheus", f"--config.file={config}"]
    command += [f"--storage.tsdb.path={folder / 'prometheus-data'}", f"--web.listen-address={HOST}:{port}"]
    return Proc("prometheus", command, {}, folder, "/-/ready", port)


class Postgres:
    """The server tests.helpers.running_postgres started (same data folder, port and options),
    stopped and started again as a database outage does."""

    def __init__(self, folder: Path, bindir: Path, port: int):
        self.folder, self.bindir, self.port = folder, bindir, port

    def _pg_ctl(self, *args) -> None:
        run = {"check": True, "capture_output": True, "text": True, "timeout": 120, "cwd": self.folder}
        run_as_postgres([self.bindir / "pg_ctl", "-D", self.folder / "data", *args], **run)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        options = f"-k {self.folder} -c listen_addresses={HOST} -p {self.port} -c fsync=off"
        self._pg_ctl("-l", self.folder / "server.log", "-o", options, "-w", "start")
