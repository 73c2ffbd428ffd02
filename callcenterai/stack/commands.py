"""``up``, ``status`` and ``down``: start the stack and wait until every process is ready, say how
each is, stop them all."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from callcenterai.config import PROJECT_ROOT
from callcenterai.stack import records
from callcenterai.stack.layout import StackError, StackLayout
from callcenterai.stack.processes import answers_ready, launch, log_tail, port_is_free, stop_groups
from callcenterai.stack.prometheus import write_scrape_config
from callcenterai.stack.registry import REGISTRY_SOURCE, as_the_registry_says
from callcenterai.stack.secrets import ensure_secrets, private_folder
from callcenterai.stack.services import PROMETHEUS_BINARY, ServiceSpec, stack_plan

DEFAULT_TIMEOUT = 180.0
POLL_SECONDS = 0.2
logging.getLogger("alembic").setLevel(logging.WARNING)  # the review store's migration, step by step


def check_can_start(layout: StackLayout) -> None:
    """Everything ``up`` needs is there, and nothing of an earlier stack still runs."""
    if any(entry.group_left() for entry in records.load(layout.pids_file)):
        raise StackError(
            f"a stack from {layout.state} is running: `stack.py status`, or `stack.py down` first"
        )
    if not (layout.project / "mlflow.db").is_file():
        raise StackError(f"no MLflow store at {layout.project / 'mlflow.db'}: run the Quick start first")
    chosen = layout.routing_policy
    if chosen and chosen != REGISTRY_SOURCE and not Path(chosen).is_file():
        raise StackError(f"--routing-policy {chosen}: no such file")
    if not os.access(PROMETHEUS_BINARY, os.X_OK):
        raise StackError(
            f"{PROMETHEUS_BINARY} not found: install Debian's package (apt-get install prometheus)"
        )
    taken = [f"{port} ({name})" for name, port in layout.ports.items() if not port_is_free(port)]
    if taken:
        raise StackError(f"ports in use: {', '.join(taken)}; pass --port-offset N or --port SERVICE=PORT")


def prepare_state(layout: StackLayout) -> dict[str, str]:
    """The state folder with its secrets, logs folder, and the review store at the newest schema.

    The store is migrated here, once, because the agent and the web interface would
    otherwise both migrate the one SQLite file at the same moment.
    """
    from callcenterai.review.store import ReviewStore

    private_folder(layout.state)
    private_folder(layout.logs)
    # MLflow's metrics exporter keeps a file per worker process: those of a past run would be counted.
    shutil.rmtree(layout.mlflow_metrics, ignore_errors=True)
    found = ensure_secrets(layout.secrets)
    ReviewStore(layout.review_db_url).migrate()
    return found


def plan_for(layout: StackLayout, secrets: dict[str, str]) -> list[ServiceSpec]:
    config = write_scrape_config(layout.state / "prometheus.yml", layout.ports)
    return stack_plan(layout, secrets, config)


class StartFailed(StackError):
    """A process that exited or was not ready in time; everything ``up`` started is stopped."""


def start_all(layout: StackLayout, plan: list[ServiceSpec], timeout: float) -> list[records.Started]:
    """Start each process once those it needs are ready; return when all are ready.

    A process that exits, or one not ready in ``timeout`` seconds, stops everything
    started so far and raises StartFailed naming it with the end of its log.
    """
    started: dict[str, subprocess.Popen] = {}
    entries: list[records.Started] = []
    ready: set[str] = set()
    deadline = time.monotonic() + timeout
    try:
        while len(ready) < len(plan):
            for spec in plan:
                if spec.name not in started and set(spec.after) <= ready:
                    started[spec.name] = launch(spec.command, spec.env, layout.log(spec.name), PROJECT_ROOT)
                    entries.append(records.Started.of(spec, started[spec.name].pid, layout.log(spec.name)))
                    records.save(layout.pids_file, entries)
            fresh = newly_ready(plan, started, ready, layout)
            if "mlflow" in fresh:  # the registry answers now: which version each classifier is to serve
                plan = as_the_registry_says(plan, layout)
            ready |= fresh
            if len(ready) < len(plan) and time.monotonic() > deadline:
                late = [spec.name for spec in plan if spec.name not in ready]
                raise StartFailed(failure(layout, late, f"not ready after {timeout:.0f} s"))
            time.sleep(POLL_SECONDS)
    except BaseException:
        stop_all(layout, entries)
        raise
    return entries


def newly_ready(
    plan: list[ServiceSpec], started: dict[str, subprocess.Popen], ready: set[str], layout: StackLayout
) -> set[str]:
    found = set()
    for spec in plan:
        if spec.name in ready or spec.name not in started:
            continue
        code = started[spec.name].poll()
        if code is not None:
            raise StartFailed(failure(layout, [spec.name], f"exited with code {code} before it was ready"))
        if answers_ready(spec.ready_url, timeout=1.0):
            found.add(spec.name)
    return found


def failure(layout: StackLayout, names: list[str], what: str) -> str:
    tails = [
        f"--- {name}: {layout.shown(layout.log(name))} (last lines)\n{log_tail(layout.log(name))}"
        for name in names
    ]
    return f"{', '.join(names)} {what}; every process this command started was stopped\n" + "\n".join(tails)


def stop_all(layout: StackLayout, entries: list[records.Started]) -> list[records.Started]:
    """Stop every group still there, last started first; forget the record once none is left."""
    alive = [entry for entry in reversed(entries) if entry.group_left()]
    left = set(stop_groups(entry.pid for entry in alive))
    if left:
        names = ", ".join(f"{entry.name} (pid {entry.pid})" for entry in alive if entry.pid in left)
        raise StackError(f"still running after SIGKILL: {names}")
    layout.pids_file.unlink(missing_ok=True)
    return alive


def up(layout: StackLayout, timeout: float = DEFAULT_TIMEOUT) -> tuple[list[records.Started], float]:
    """Start the stack; the processes (all ready) and the seconds until the last was ready."""
    began = time.monotonic()
    check_can_start(layout)
    secrets = prepare_state(layout)
    entries = start_all(layout, plan_for(layout, secrets), timeout)
    return entries, time.monotonic() - began


def status(layout: StackLayout) -> list[tuple[records.Started, str]]:
    """Each recorded process with ``ready``, ``running`` (not ready) or ``stopped``."""
    found = []
    for entry in records.load(layout.pids_file):
        if not entry.running():
            state = "stopped"
        else:
            state = "ready" if answers_ready(entry.ready_url) else "running"
        found.append((entry, state))
    return found


def down(layout: StackLayout) -> list[records.Started]:
    """Stop every process of the stack; the ones that were still running (none: nothing to do)."""
    return stop_all(layout, records.load(layout.pids_file))
