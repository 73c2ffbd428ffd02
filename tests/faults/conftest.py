"""The fault suite's processes, started once for the module: a real `mlflow server` over the pipeline
fixture's registry, the two classifiers loading ``models:/...@production`` from it (and polling it),
the agent writing flagged tickets to a real PostgreSQL through its on-disk spool, the web interface,
and a live Prometheus with the project's alert rules scraping all of them every 5 s.

Every case leaves the processes as it found them (restarting what it broke); the fixture kills
every one of them at the end, also when a case failed.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from callcenterai.kinds import kind_named
from tests.faults.processes import Postgres, Proc, mlflow_proc, prometheus_proc, uvicorn_proc
from tests.faults.prometheus import write_config
from tests.helpers import (
    API_KEY,
    REVIEWER,
    REVIEWER_PASSWORD,
    agent_env,
    free_port,
    postgres_bin,
    run_script,
    running_postgres,
)

DB_USER = "callcenterai"
MODEL_POLL_SECONDS = "5"
LIMITS = {"MAX_TEXT_CHARS": "1000", "MAX_BATCH_SIZE": "5", "MAX_BODY_BYTES": "1000000"}


@dataclass
class FaultStack:
    folder: Path
    postgres: Postgres
    database_url: str
    mlflow: Proc
    tfidf: Proc
    transformer: Proc
    agent: Proc
    web: Proc
    prometheus: Proc
    texts: list[str]
    mlflow_stopped_at: float | None = None  # set by the case that stops MLflow for the rest of the module

    @property
    def procs(self) -> list[Proc]:
        return [self.web, self.agent, self.tfidf, self.transformer, self.mlflow, self.prometheus]

    def connect(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.postgres.port, user=DB_USER, dbname="postgres")


def classifier(kind: str, mlflow: Proc, folder: Path) -> Proc:
    env = {
        "MLFLOW_TRACKING_URI": mlflow.url,
        "MODEL_URI": f"models:/{kind_named(kind).registered_name}@production",
        "MODEL_CACHE_DIR": str(folder / f"cache-{kind}"),
        "MODEL_POLL_SECONDS": MODEL_POLL_SECONDS,
        "CALLCENTERAI_API_KEY": API_KEY,
        "LOG_LEVEL": "INFO",
        **LIMITS,
    }
    return uvicorn_proc(f"{kind}_svc", f"{kind}_svc", env, folder)


def agent(stack_folder: Path, policy: Path, tfidf: Proc, transformer: Proc, database_url: str) -> Proc:
    env = agent_env(
        policy,
        tfidf.url,
        transformer.url,
        DATABASE_URL=database_url,
        REVIEW_SPOOL_PATH=str(stack_folder / "review-spool.db"),
        BACKEND_TIMEOUT_SECONDS="1",
        REVIEW_MAX_NEW_PER_WINDOW="1000000",
        LOG_LEVEL="INFO",
        **LIMITS,
    )
    return uvicorn_proc("agent", "agent", env, stack_folder)


def web(folder: Path, agent_proc: Proc, mlflow: Proc, database_url: str) -> Proc:
    reviewers = folder / "reviewers.txt"
    added = run_script(
        "scripts/add_reviewer.py", REVIEWER, "--file", reviewers, "--password-stdin", input=REVIEWER_PASSWORD
    )
    assert added.returncode == 0, added.stderr
    env = {
        "AGENT_URL": agent_proc.url,
        "DATABASE_URL": database_url,
        "REVIEWERS_FILE": str(reviewers),
        "SESSION_SECRET": "s" * 40,
        "MLFLOW_TRACKING_URI": mlflow.url,
        "AGENT_BATCH_SIZE": LIMITS["MAX_BATCH_SIZE"],
        "AGENT_TIMEOUT_SECONDS": "5",
        "CLASSIFY_REQUIRES_LOGIN": "0",
        "COOKIE_SECURE": "0",
        "MAX_TEXT_CHARS": LIMITS["MAX_TEXT_CHARS"],
    }
    return uvicorn_proc("web_interface", "web_interface", env, folder)


def held_out_texts(project: Path, count: int = 200) -> list[str]:
    """Real tickets of the fixture's test split, cut to a length the agent takes."""
    frame = pd.read_csv(project / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False)
    return [text[:300] for text in frame["text"].head(count) if text.strip()]


@pytest.fixture(scope="module")
def fault_stack(trained_project, registry_env, tmp_path_factory):
    project, _ = trained_project
    folder = tmp_path_factory.mktemp("fault-stack")
    shutil.copy(project / "models" / "routing" / "policy.json", folder / "policy.json")
    pg_port = free_port()
    with running_postgres(DB_USER, port=pg_port) as pg_folder, contextlib.ExitStack() as stops:
        database_url = f"postgresql+psycopg://{DB_USER}@127.0.0.1:{pg_port}/postgres"
        mlflow = mlflow_proc(project, folder)
        tfidf, transformer = (classifier(kind, mlflow, folder) for kind in ("tfidf", "transformer"))
        agent_proc = agent(folder, folder / "policy.json", tfidf, transformer, database_url)
        web_proc = web(folder, agent_proc, mlflow, database_url)
        ports = {p.name: p.port for p in (mlflow, tfidf, transformer, agent_proc, web_proc)}
        ports["prometheus"] = free_port()
        config = write_config(folder / "prometheus.yml", ports)
        stack = FaultStack(
            folder,
            Postgres(pg_folder, postgres_bin(), pg_port),
            database_url,
            mlflow,
            tfidf,
            transformer,
            agent_proc,
            web_proc,
            prometheus_proc(config, folder, ports["prometheus"]),
            held_out_texts(project),
        )
        for proc in reversed(stack.procs):  # the order they depend on each other
            stops.callback(proc.kill)
            proc.start()
        yield stack
