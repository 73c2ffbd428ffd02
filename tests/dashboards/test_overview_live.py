"""Every query of the overview dashboard, run against the Prometheus of a running process stack.

Grafana cannot run here, so this is the check that the dashboard shows data: `scripts/stack.py up`
starts every service with its real Prometheus (scraping every 5 s, loading the recording rules),
tickets go through the agent (some with personal data, some flagged for review), and each panel's
query, with the dashboard's variables at "All", must answer with data.
"""

from __future__ import annotations

import math
import time

import httpx
import pytest

from callcenterai.review.drift_runs import save_drift_run
from callcenterai.review.store import ReviewStore
from callcenterai.stack import records
from callcenterai.stack.layout import DEFAULT_PORTS
from tests.dashboards.queries import PanelQuery, committed_dashboard, panel_queries
from tests.helpers import free_port, run_script

PERSONAL = (
    "my email is jane.doe@example.com and my phone is +44 20 7946 0958, the vpn client will not connect"
)
# Not English: the policy flags it for review whatever the models say.
GERMAN = "Mein Laptop startet nicht mehr und der Bildschirm bleibt schwarz, bitte helfen Sie mir schnell"
SECONDS_FOR_DATA = 180
# Panels that draw nothing until a classifier serves a challenger that answered shadowed tickets:
# this stack has none. Their queries must still run.
NEED_A_CHALLENGER = {"Challenger agreement with the champion", "Challenger latency p95"}
# A drift run as scripts/monitor_drift.py saves it, so the agent publishes the drift gauges.
DRIFT_RUN = {
    "window_tickets": 1000,
    "reference_tickets": 3000,
    "drifted": True,
    "checks": {
        "label_mix": {"score": 0.18, "threshold": 0.08, "drifted": True, "method": "tvd", "detail": {}},
        "text_length": {"score": 0.05, "threshold": 0.15, "drifted": False, "method": "w", "detail": {}},
    },
}


@pytest.fixture(scope="module")
def stack(trained_project, registry_env, tmp_path_factory):
    folder, _ = trained_project
    state = tmp_path_factory.mktemp("dashboard-stack") / "state"
    ports = [f"--port={name}={free_port()}" for name in DEFAULT_PORTS]
    up = run_script("scripts/stack.py", "up", "--project", folder, "--state", state, *ports, timeout=400)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        # The agent migrated the stack's review database at start; it reads drift runs every minute.
        save_drift_run(ReviewStore(f"sqlite:///{state / 'review.db'}"), DRIFT_RUN)
        urls = {entry.name: entry.url for entry in records.load(state / "stack.json")}
        yield {"urls": urls, "key": (state / "secrets" / "agent_client_key").read_text().strip()}
    finally:
        down = run_script("scripts/stack.py", "down", "--state", state, timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr


def _send(stack: dict, texts: list[str]) -> list[dict]:
    answers = []
    for text in texts:
        response = httpx.post(
            f"{stack['urls']['agent']}/predict",
            json={"text": text},
            headers={"X-Client-Key": stack["key"]},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def _has_data(answer: dict) -> bool:
    """Success with at least one number: NaN alone (a quantile of no traffic) would draw nothing."""
    if answer.get("status") != "success":
        return False
    return any(not math.isnan(float(series["value"][1])) for series in answer["data"]["result"])


def _answer(stack: dict, query: PanelQuery) -> dict:
    prometheus = stack["urls"]["prometheus"]
    return httpx.get(f"{prometheus}/api/v1/query", params={"query": query.expr}, timeout=30).json()


def _answers_once_all_have_data(stack: dict, texts: list[str], queries: list[PanelQuery]) -> dict:
    """Each query's answer, once every one has data or the time is up; tickets keep coming meanwhile
    so that rate() over the last minute stays above zero. A rate needs two scrapes after the first
    ticket, a recording rule one evaluation after that, the registry's version a poll."""
    deadline = time.monotonic() + SECONDS_FOR_DATA
    while True:
        _send(stack, texts[:3])
        answers = {query: _answer(stack, query) for query in queries}
        if all(map(_has_data, answers.values())) or time.monotonic() > deadline:
            return answers
        time.sleep(2)


def test_every_panel_query_returns_data_from_the_stacks_prometheus(stack, sample_frame):
    texts = [PERSONAL, GERMAN, *sample_frame["Document"].head(12)]
    sent = _send(stack, texts)
    assert sent[0]["redacted"], "the ticket with personal data had some found"
    assert any(answer["needs_review"] for answer in sent), "at least one ticket was flagged"

    every_query = panel_queries(committed_dashboard())
    assert NEED_A_CHALLENGER <= {query.panel for query in every_query}
    queries = [query for query in every_query if query.panel not in NEED_A_CHALLENGER]
    answers = _answers_once_all_have_data(stack, texts, queries)
    answers |= {query: _answer(stack, query) for query in every_query if query not in answers}
    refused = {query.name: answers[query] for query in every_query if answers[query]["status"] != "success"}
    assert not refused, f"queries Prometheus refused: {refused}"
    empty = {query.name: (query.expr, answers[query]) for query in queries if not _has_data(answers[query])}
    assert not empty, f"{len(empty)} of {len(queries)} queries without data: {empty}"

    # The service variable's options: every service of the stack that answers requests.
    values = httpx.get(
        f"{stack['urls']['prometheus']}/api/v1/label/job/values",
        params={"match[]": "callcenterai_requests_total"},
        timeout=30,
    ).json()["data"]
    assert {"agent", "tfidf_svc", "transformer_svc", "web_interface"} <= set(values)
