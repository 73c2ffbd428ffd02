"""`scripts/stack.py` as a user runs it, over the pipeline fixture's store with its promoted models:
`up` on free ports has every process ready, a ticket through the agent comes back classified with its
route and model version, Prometheus scrapes every target, `status` says ready, and `down` leaves no
process of the stack."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from callcenterai.stack import records
from callcenterai.stack.layout import DEFAULT_PORTS
from callcenterai.stack.processes import group_members, start_ticks
from callcenterai.stack.secrets import SECRETS
from tests.helpers import free_port, run_script

TICKET = {"text": "my laptop screen is broken and the keyboard does not work"}


def _targets_scraped_since(prometheus_url: str, since: dt.datetime, seconds: float = 90) -> dict[str, str]:
    """Each scrape job's health (with the error of its scrape) once every target has been scraped after
    ``since``: a scrape from before a service listened says nothing of the stack that is up."""
    deadline = time.monotonic() + seconds
    while True:
        active = httpx.get(f"{prometheus_url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        scraped = [dt.datetime.fromisoformat(target["lastScrape"]) for target in active]
        if (active and min(scraped) > since) or time.monotonic() > deadline:
            return {t["labels"]["job"]: " ".join([t["health"], t["lastError"]]).strip() for t in active}
        time.sleep(1)


@pytest.fixture()
def stack(trained_project, registry_env, tmp_path):  # noqa: F811
    folder, _ = trained_project
    state = tmp_path / "state"
    ports = [f"--port={name}={free_port()}" for name in DEFAULT_PORTS]
    up = run_script("scripts/stack.py", "up", "--project", folder, "--state", state, *ports, timeout=400)
    ready_at = dt.datetime.now(dt.timezone.utc)
    try:
        yield {"up": up, "state": state, "entries": records.load(state / "stack.json"), "ready_at": ready_at}
    finally:
        down = run_script("scripts/stack.py", "down", "--state", state, timeout=120)
        assert down.returncode == 0, down.stderr


def test_the_stack_starts_serves_is_scraped_and_stops_leaving_no_process(stack):
    up, state = stack["up"], stack["state"]
    assert up.returncode == 0, up.stdout + up.stderr
    urls = {entry.name: entry.url for entry in stack["entries"]}
    assert set(urls) == set(DEFAULT_PORTS)
    for entry in stack["entries"]:
        assert entry.url in up.stdout and httpx.get(entry.ready_url, timeout=10).status_code == 200
    assert f"add_reviewer.py NAME --file {state / 'reviewers.txt'}" in up.stdout
    assert not any((state / "secrets" / name).read_text().strip() in up.stdout for name in SECRETS)

    key = (state / "secrets" / "agent_client_key").read_text().strip()
    answer = httpx.post(f"{urls['agent']}/predict", json=TICKET, headers={"X-Client-Key": key}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["route"]["model"] in {"tfidf", "transformer", "ensemble"} and body["model"]["version"]
    assert httpx.post(f"{urls['agent']}/predict", json=TICKET, timeout=30).status_code == 401  # key needed

    assert _targets_scraped_since(urls["prometheus"], stack["ready_at"]) == {
        name: "up" for name in DEFAULT_PORTS
    }

    status = run_script("scripts/stack.py", "status", "--state", state)
    assert status.returncode == 0, status.stdout + status.stderr
    for name in DEFAULT_PORTS:
        assert any(line.split()[:2] == [name, "ready"] for line in status.stdout.splitlines()), status.stdout

    down = run_script("scripts/stack.py", "down", "--state", state, timeout=120)
    assert down.returncode == 0 and all(name in down.stdout for name in DEFAULT_PORTS), (
        down.stdout + down.stderr
    )
    for entry in stack["entries"]:
        assert start_ticks(entry.pid) is None and group_members(entry.pid) == [], entry.name
    after = run_script("scripts/stack.py", "status", "--state", state)
    assert after.returncode == 1 and "every service stopped" in after.stdout
