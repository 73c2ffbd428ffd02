"""The smoke test of a running stack: every service ready, a ticket through the agent, the web page,
every Prometheus target up. scripts/smoke_test.py runs it against the staging deploy on GitHub,
and tests/deploy/test_compose.py against the compose stack here: one check for both.

Each check is retried until it passes or the deadline: a stack that has just come up may still be
loading a model, and Prometheus reports a target only after its first scrape.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
import yaml

# A ticket no personal-data finder touches, so the agent has something left to classify.
SMOKE_TICKET = "my laptop does not start after the update"
# The readiness path of each service the smoke test reaches (MLflow and Prometheus have their own).
READY_PATHS = {
    "agent": "/ready",
    "tfidf_svc": "/ready",
    "transformer_svc": "/ready",
    "web_interface": "/ready",
    "mlflow": "/health",
    "prometheus": "/-/ready",
}
# scripts/smoke_test.py's option for each service's base URL, and the design's port for its default.
SERVICE_OPTIONS = {
    "agent": ("agent", 8000),
    "tfidf": ("tfidf_svc", 8001),
    "transformer": ("transformer_svc", 8002),
    "web": ("web_interface", 8080),
    "mlflow": ("mlflow", 5000),
    "prometheus": ("prometheus", 9090),
}
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class SmokeTarget:
    """Base URLs of the stack's services (keys of READY_PATHS), the agent's client key and the
    Prometheus scrape config whose jobs must all be up (None: whichever targets it has)."""

    urls: dict[str, str]
    agent_key: str
    scrape_config: Path | None = None


@dataclass(frozen=True)
class Outcome:
    check: str
    problem: str | None  # None when the check passed

    @property
    def passed(self) -> bool:
        return self.problem is None


Check = Callable[[httpx.Client], str | None]


def ready_check(service: str, url: str) -> Check:
    def check(client: httpx.Client) -> str | None:
        answer = client.get(url.rstrip("/") + READY_PATHS[service])
        return None if answer.status_code == 200 else f"{answer.status_code} {answer.text[:200]}"

    return check


def prediction_check(agent_url: str, key: str) -> Check:
    def check(client: httpx.Client) -> str | None:
        answer = client.post(
            agent_url.rstrip("/") + "/predict", json={"text": SMOKE_TICKET}, headers={"x-client-key": key}
        )
        if answer.status_code != 200:
            return f"{answer.status_code} {answer.text[:200]}"
        body = answer.json()
        if not body.get("label") or not body.get("route", {}).get("model"):
            return f"no label or route in the answer: {str(body)[:200]}"
        return None

    return check


def page_check(web_url: str) -> Check:
    def check(client: httpx.Client) -> str | None:
        answer = client.get(web_url.rstrip("/") + "/", follow_redirects=True)
        if answer.status_code != 200 or "text/html" not in answer.headers.get("content-type", ""):
            return f"{answer.status_code} {answer.headers.get('content-type')} at {answer.url}"
        return None

    return check


def expected_jobs(scrape_config: Path | None) -> set[str]:
    if scrape_config is None:
        return set()
    return {job["job_name"] for job in yaml.safe_load(scrape_config.read_text())["scrape_configs"]}


def targets_check(prometheus_url: str, jobs: set[str]) -> Check:
    def check(client: httpx.Client) -> str | None:
        answer = client.get(prometheus_url.rstrip("/") + "/api/v1/targets")
        if answer.status_code != 200:
            return f"{answer.status_code} {answer.text[:200]}"
        health = {t["labels"]["job"]: t["health"] for t in answer.json()["data"]["activeTargets"]}
        missing = sorted(jobs - set(health))
        down = sorted(job for job, state in health.items() if state != "up")
        if missing or down or not health:
            return f"not up: {down or 'none'}; missing: {missing or 'none'}; targets: {health}"
        return None

    return check


def smoke_checks(target: SmokeTarget) -> dict[str, Check]:
    checks = {f"{service} ready": ready_check(service, url) for service, url in target.urls.items()}
    checks["a ticket through the agent"] = prediction_check(target.urls["agent"], target.agent_key)
    checks["the web page loads"] = page_check(target.urls["web_interface"])
    checks["every Prometheus target up"] = targets_check(
        target.urls["prometheus"], expected_jobs(target.scrape_config)
    )
    return checks


def attempt(check: Check, client: httpx.Client) -> str | None:
    try:
        return check(client)
    except (httpx.HTTPError, ValueError, KeyError) as exc:  # refused, timed out, not JSON, wrong shape
        return f"{type(exc).__name__}: {exc}"


def run_check(check: Check, client: httpx.Client, deadline: float) -> str | None:
    """The check's last problem once the deadline passes, None as soon as it passes."""
    while (problem := attempt(check, client)) is not None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    return problem


def run_smoke(target: SmokeTarget, seconds: float = 120.0) -> list[Outcome]:
    """Every check in turn, all sharing one deadline; the outcome of each."""
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=10.0) as client:
        return [
            Outcome(name, run_check(check, client, deadline)) for name, check in smoke_checks(target).items()
        ]
