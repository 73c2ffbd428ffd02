"""The agent's drift gauges read the latest drift run from a real SQLite review store: no samples
before the first run, the last values kept while the database cannot be read, and the refresh
wired into the agent's start (in process, through Starlette's TestClient)."""

from __future__ import annotations

import logging
import time

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from callcenterai.agent.app import create_app
from callcenterai.agent.drift_gauges import DriftGauges
from callcenterai.agent.settings import AgentSettings
from callcenterai.review.drift_runs import latest_drift_run, save_drift_run
from callcenterai.review.schema import Base
from callcenterai.review.store import ReviewStore
from tests.helpers import policy

CREATED_AT = "2026-03-01T10:00:00+00:00"


def drift_run(length_score: float, created_at: str = CREATED_AT) -> dict:
    def check(score: float, threshold: float) -> dict:
        return {
            "score": score,
            "threshold": threshold,
            "drifted": score > threshold,
            "method": "m",
            "detail": {},
        }

    checks = {"text_length": check(length_score, 0.2), "label_mix": check(0.01, 0.1)}
    return {
        "created_at": created_at,
        "window_tickets": 800,
        "reference_tickets": 4000,
        "drifted": length_score > 0.2,
        "checks": checks,
        "report_path": None,
    }


def samples(exposition: str) -> dict[tuple, float]:
    """{(name, check label or None): value} of the drift gauges in a /metrics text."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name.startswith("callcenterai_drift_"):
                found[(sample.name, sample.labels.get("check"))] = sample.value
    return found


def migrated_store(tmp_path) -> ReviewStore:
    store = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    store.migrate()
    return store


def test_the_latest_run_becomes_gauges_and_before_any_run_there_are_no_samples(tmp_path):
    store, registry = migrated_store(tmp_path), CollectorRegistry()
    gauges = DriftGauges(registry, reader=lambda: latest_drift_run(store))
    assert gauges.refresh() and samples(generate_latest(registry).decode()) == {}
    assert "# TYPE callcenterai_drift_score gauge" in generate_latest(registry).decode()
    save_drift_run(store, drift_run(0.05, "2026-02-01T00:00:00+00:00"))
    save_drift_run(store, drift_run(0.35))
    assert gauges.refresh()
    assert samples(generate_latest(registry).decode()) == {
        ("callcenterai_drift_score", "label_mix"): 0.01,
        ("callcenterai_drift_score", "text_length"): 0.35,
        ("callcenterai_drift_threshold", "label_mix"): 0.1,
        ("callcenterai_drift_threshold", "text_length"): 0.2,
        ("callcenterai_drift_detected", "label_mix"): 0.0,
        ("callcenterai_drift_detected", "text_length"): 1.0,
        ("callcenterai_drift_last_run_timestamp_seconds", None): 1772359200.0,
        ("callcenterai_drift_window_tickets", None): 800.0,
    }


def test_an_unreadable_database_keeps_the_last_values_and_is_logged_once(tmp_path, caplog):
    store, registry = migrated_store(tmp_path), CollectorRegistry()
    save_drift_run(store, drift_run(0.35))
    gauges = DriftGauges(registry, reader=lambda: latest_drift_run(store))
    assert gauges.refresh()
    before = samples(generate_latest(registry).decode())
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE drift_runs"))
    with caplog.at_level(logging.INFO, logger="callcenterai.agent"):
        assert not gauges.refresh() and not gauges.refresh()
        assert samples(generate_latest(registry).decode()) == before
        assert len([r for r in caplog.records if "cannot read the latest drift run" in r.message]) == 1
        Base.metadata.tables["drift_runs"].create(store.engine)
        save_drift_run(store, drift_run(0.05, "2026-03-02T10:00:00+00:00"))
        assert gauges.refresh()
        assert any("can be read again" in r.message for r in caplog.records)
    after = samples(generate_latest(registry).decode())
    assert after[("callcenterai_drift_detected", "text_length")] == 0.0


def test_the_agent_refreshes_the_gauges_from_its_review_store_while_it_runs(tmp_path):
    store = migrated_store(tmp_path)
    policy().write(tmp_path)
    settings = AgentSettings(
        TFIDF_URL="http://127.0.0.1:9",
        TRANSFORMER_URL="http://127.0.0.1:9",
        ROUTING_POLICY=str(tmp_path / "policy.json"),
        DATABASE_URL=store.url,
        DRIFT_REFRESH_SECONDS=0.05,
    )
    with TestClient(create_app(settings)) as client:
        save_drift_run(store, drift_run(0.35))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = samples(client.get("/metrics").text)
            if found:
                break
            time.sleep(0.05)
    assert found[("callcenterai_drift_score", "text_length")] == 0.35
    assert found[("callcenterai_drift_window_tickets", None)] == 800.0
