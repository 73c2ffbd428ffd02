"""The agent when a backend dies, hangs or comes back: real processes, killed and stopped for real.

A backend stopped with SIGSTOP is the honest "accepts connections, never answers":
its listening socket stays open in the kernel, nothing reads from it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx
import pytest

from callcenterai.config import PROJECT_ROOT
from callcenterai.routing.fitting import ROUTE_ALL
from tests.helpers import agent_env, free_port, running_service

TEXTS = ["printer broken", "please reset my password", "need a new laptop for the new starter"]


class Backend:
    """A classifier service process on a fixed port, so it can be killed and started again."""

    def __init__(self, kind: str, env: dict, folder):
        self.kind, self.env, self.folder = kind, env, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        log = open(self.folder / f"{self.kind}.log", "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"services.{self.kind}_svc.app:app", "--port", str(self.port)],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: _ready(self.url), f"{self.kind}_svc to start")

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def pause(self, paused: bool):
        os.killpg(self.process.pid, signal.SIGSTOP if paused else signal.SIGCONT)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def fault_backends(registry_env, policy_copy, tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    backends = {}
    for kind in ("tfidf", "transformer"):
        env = {**registry_env, "MODEL_CACHE_DIR": str(folder / f"cache-{kind}")}
        backends[kind] = Backend(kind, env, folder)
        backends[kind].start()
    # Every ticket wants the transformer, so its absence shows on every answer.
    policy = json.loads(policy_copy.read_text())
    (folder / "policy.json").write_text(json.dumps({**policy, "tfidf_threshold": ROUTE_ALL}))
    env = agent_env(
        folder / "policy.json",
        backends["tfidf"].url,
        backends["transformer"].url,
        BACKEND_TIMEOUT_SECONDS="0.5",
    )
    with running_service("services.agent.app:app", env, folder / "agent.log") as url:
        yield backends, url
    for backend in backends.values():
        if backend.process.poll() is None:
            backend.pause(False)
            backend.kill()


def predict(url: str, text: str = TEXTS[0]) -> httpx.Response:
    return httpx.post(url + "/predict", json={"text": text}, timeout=30)


def metric(url: str, line_start: str) -> float:
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@contextmanager
def load(url: str):
    """Requests back to back from a thread until the block ends; yields the responses seen."""
    seen, stop = [], threading.Event()

    def loop():
        with httpx.Client(timeout=30) as client:
            i = 0
            while not stop.is_set():
                response = client.post(url + "/predict", json={"text": TEXTS[i % len(TEXTS)]})
                seen.append((response.status_code, response.json()))
                i += 1

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def test_a_killed_backend_is_answered_around_and_rejoins_by_itself(fault_backends):
    backends, url = fault_backends
    with load(url) as seen:
        wait_until(lambda: len(seen) > 20, "answers before the kill")
        backends["transformer"].kill()
        wait_until(lambda: any(body.get("degraded") for _, body in seen[-5:]), "degraded answers")
        backends["transformer"].start()
        wait_until(lambda: len(seen) > 5 and not any(b.get("degraded") for _, b in seen[-5:]), "recovery")
    assert {status for status, _ in seen} == {200}
    degraded = [body for _, body in seen if body["degraded"]]
    assert degraded and all(b["route"]["model"] == "tfidf" for b in degraded)
    assert all("transformer_svc unavailable" in b["degraded_reason"] for b in degraded)
    assert seen[-1][1]["route"]["model"] == "ensemble"


def test_a_hanging_backend_costs_the_timeout_once_then_is_skipped(fault_backends):
    backends, url = fault_backends
    timeouts = 'callcenterai_agent_backend_errors_total{backend="transformer_svc",error="timeout"}'
    before = metric(url, timeouts)
    backends["transformer"].pause(True)
    try:
        answers = [predict(url, text).json() for text in TEXTS * 2]
        assert all(a["degraded"] and a["route"]["model"] == "tfidf" for a in answers)
        assert "no answer within 0.5 s" in answers[0]["degraded_reason"]
        assert metric(url, timeouts) == before + 1  # the other five skipped it at once
        ready = httpx.get(url + "/ready").json()
        assert ready["ready"] and ready["backends"]["transformer_svc"]["circuit"] == "open"
    finally:
        backends["transformer"].pause(False)
    wait_until(lambda: predict(url).json()["route"]["model"] == "ensemble", "the transformer back")


def test_both_backends_down_is_a_503_naming_both(fault_backends):
    backends, url = fault_backends
    for backend in backends.values():
        backend.kill()
    wait_until(lambda: httpx.get(url + "/ready").status_code == 503, "the agent to notice")
    response = predict(url)
    assert response.status_code == 503
    assert "tfidf_svc" in response.json()["error"] and "transformer_svc" in response.json()["error"]
    assert "no classifier available" in httpx.get(url + "/ready").json()["reason"]
    for backend in backends.values():
        backend.start()
    wait_until(lambda: predict(url).status_code == 200, "recovery from both down")


def test_a_review_store_that_is_down_never_fails_a_prediction(
    tfidf_service, transformer_service, policy_copy, tmp_path
):
    policy = json.loads(policy_copy.read_text())
    (tmp_path / "policy.json").write_text(json.dumps({**policy, "review_threshold": 1.01}))  # flag everything
    env = agent_env(
        tmp_path / "policy.json",
        tfidf_service["url"],
        transformer_service["url"],
        DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-folder' / 'review.db'}",  # SQLite cannot create it
        REVIEW_SPOOL_PATH=str(tmp_path / "spool.db"),
    )
    errors = 'callcenterai_agent_review_store_total{result="error"}'
    with running_service("services.agent.app:app", env, tmp_path / "agent.log") as url:
        answers = [predict(url, text) for text in TEXTS]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert all(a.json()["needs_review"] for a in answers)
        wait_until(lambda: metric(url, errors) >= 1, "the failed writes to be counted")
        assert predict(url).status_code == 200
