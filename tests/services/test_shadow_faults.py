"""A TF-IDF challenger that hangs or fails never reaches the agent's callers. Real processes: an
`mlflow server` holding the fixture's production models and a challenger trained on 200 tickets,
tfidf_svc serving both, the agent with a SQLite review store; between the agent and tfidf_svc the
fault injector tests/faults/challenger_proxy.py (not a mock of the product: it forwards every call
to the real tfidf_svc, and hangs or answers 500 only on the challenger's, /challenger/...).

The policy lets TF-IDF answer every ticket alone, so every answer is offered to the challenger (no
transformer is started: the policy never asks one). Every ticket, single and in batches, is answered
200 and exactly as an agent whose tfidf_svc has no challenger (CHALLENGER_URI=none) answers it; the
agent counts each shadowed ticket as failed in /metrics and stores why with each call in shadow_calls.
The test waits for those counts; it never times the callers.
"""

from __future__ import annotations

import httpx
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from callcenterai.agent.shadow import RESTING
from callcenterai.review.schema import ShadowCall
from callcenterai.review.store import ReviewStore
from tests.helpers import (
    API_KEY,
    agent_env,
    free_port,
    register_tfidf,
    registry_command,
    running_service,
    tfidf_only,
    training_head,
    wait_until,
)

TICKETS = 30
BATCH = 5  # the agent's MAX_BATCH_SIZE in the tests' settings
# Why the agent says each challenger call failed, as stored with the ticket.
STORED_ERROR = {"hang": "timeout", "error": "http_5xx"}


@pytest.fixture(scope="module")
def setup(trained_project, published_mlflow, policy_copy, tmp_path_factory):
    folder, _ = trained_project
    work = tmp_path_factory.mktemp("shadow-faults")
    processed = folder / "data" / "processed"
    version = register_tfidf(
        training_head(processed, 200, work / "head"), work, published_mlflow, "challenger"
    )
    registry_command(published_mlflow, "challenger", "--version", version)
    test = pd.read_csv(processed / "test.csv", dtype=str, keep_default_na=False)
    return {
        "uri": published_mlflow,
        "version": version,
        "work": work,
        "texts": test.text.head(TICKETS).tolist(),
        "policy": tfidf_only(policy_copy, work),
    }


def classifier(setup: dict, name: str, **extra):
    env = {
        "MLFLOW_TRACKING_URI": setup["uri"],
        "MODEL_CACHE_DIR": str(setup["work"] / f"cache-{name}"),
        "CALLCENTERAI_API_KEY": API_KEY,
        **extra,
    }
    return running_service("services.tfidf_svc.app:app", env, setup["work"] / f"tfidf-{name}.log")


def agent(setup: dict, backend: str, name: str):
    nowhere = f"http://127.0.0.1:{free_port()}"  # the transformer: never asked under this policy
    env = agent_env(
        setup["policy"],
        backend,
        nowhere,
        DATABASE_URL=f"sqlite:///{setup['work'] / f'{name}-review.db'}",
        MAX_TEXT_CHARS="20000",
    )
    return running_service("services.agent.app:app", env, setup["work"] / f"agent-{name}.log")


def answers(agent_url: str, texts: list[str]) -> tuple[list[int], list[dict]]:
    """Every text once alone and once in a batch: the statuses and the answers (without latency)."""
    with httpx.Client(base_url=agent_url, timeout=60) as client:
        singles = [client.post("/predict", json={"text": text}) for text in texts]
        batches = [
            client.post("/predict/batch", json={"texts": texts[i : i + BATCH]})
            for i in range(0, len(texts), BATCH)
        ]
    statuses = [r.status_code for r in singles + batches]
    said = [r.json() for r in singles] + [
        p for r in batches if r.status_code == 200 for p in r.json()["predictions"]
    ]
    return statuses, [{k: v for k, v in a.items() if k != "latency_ms"} for a in said]


def shadow_counts(agent_url: str) -> dict[str, float]:
    text = httpx.get(f"{agent_url}/metrics", timeout=10).text
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "callcenterai_shadow_tickets_total" and sample.labels.get("backend") == "tfidf"
    }


@pytest.fixture(scope="module")
def unshadowed(setup):
    """What the agent answers when its tfidf_svc serves no challenger."""
    with classifier(setup, "plain", CHALLENGER_URI="none") as tfidf, agent(setup, tfidf, "plain") as url:
        statuses, said = answers(url, setup["texts"])
        counts = shadow_counts(url)
    assert set(statuses) == {200}
    assert not any(counts.values()), counts  # nothing to shadow to
    return said


def served_challenger(url: str) -> str | None:
    return (httpx.get(f"{url}/ready", timeout=5).json().get("challenger") or {}).get("version")


@pytest.fixture(scope="module")
def shadowed_classifier(setup):
    with classifier(setup, "shadowed") as url:
        wait_until(lambda: served_challenger(url) == setup["version"], "tfidf_svc to load the challenger")
        yield url


def stored_errors(store: ReviewStore, at_least: float) -> list[str | None] | None:
    """Why each stored challenger call gave no answer, once calls of ``at_least`` tickets are written."""
    try:
        with store.sessions() as session:
            calls = session.execute(select(ShadowCall.error, ShadowCall.tickets)).all()
    except OperationalError:  # the agent creates its tables with its first write: not yet
        return None
    return [call.error for call in calls] if sum(call.tickets for call in calls) >= at_least else None


@pytest.mark.parametrize("mode", ["hang", "error"])
def test_a_failing_challenger_is_counted_and_never_seen_by_callers(
    mode, setup, unshadowed, shadowed_classifier, tmp_path
):
    fault = {"FAULT_UPSTREAM": shadowed_classifier, "FAULT_MODE": mode}
    store = ReviewStore(f"sqlite:///{setup['work'] / f'{mode}-review.db'}")
    with running_service("tests.faults.challenger_proxy:app", fault, tmp_path / "proxy.log") as proxy:
        with agent(setup, proxy, mode) as url:
            statuses, said = answers(url, setup["texts"])
            offered = len(said)
            counts = wait_until(
                lambda: (c := shadow_counts(url)).get("failed", 0) + c.get("dropped", 0) >= offered and c,
                f"the agent to count the {mode} challenger's {offered} tickets",
                60,
            )
            errors = wait_until(
                lambda: stored_errors(store, counts["failed"]), "the outcomes in the store", 30
            )
    assert statuses == [200] * len(statuses)
    assert said == unshadowed
    assert counts["failed"] > 0 and counts.get("agreed", 0) == counts.get("disagreed", 0) == 0, counts
    # The first failure is stored with why; tickets that came while the challenger rested, unsent.
    assert STORED_ERROR[mode] in errors and set(errors) <= {STORED_ERROR[mode], RESTING}, set(errors)
