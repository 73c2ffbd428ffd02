"""The agent records answered tickets for the drift checks, without personal data, off the request path.

Through the agent app (Starlette's TestClient) in front of the real classifier service in process
(tests/agent/conftest.py), and the writer alone over a real SQLite review store in a temporary folder.
"""

from __future__ import annotations

import asyncio
import logging

from callcenterai.agent.decisions import Ticket
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.traffic_writer import TrafficWriter
from callcenterai.pii.scrubber import Scrubbed
from callcenterai.review.store import ReviewStore
from callcenterai.review.traffic import traffic_window
from callcenterai.routing.language import Language
from tests.agent.conftest import agent_app, sample

EMAIL = "jane.roe@example.com"
TEXTS = [
    f"my password is locked, write to {EMAIL} please",
    "the printer and the monitor are broken today",
    "my disk quota is full on the backup share",
]
WRITTEN = "callcenterai_traffic_samples_total"


def store_at(folder) -> ReviewStore:
    store = ReviewStore(f"sqlite:///{folder / 'review.db'}")
    store.migrate()
    return store


def test_each_answered_ticket_single_or_in_a_batch_is_recorded_as_the_models_saw_it(tiny_service, tmp_path):
    database = f"sqlite:///{tmp_path / 'review.db'}"
    with agent_app(tmp_path, tiny_service, DATABASE_URL=database) as client:
        single = client.post("/predict", json={"text": TEXTS[0], "include_redaction": True}).json()
        batch = client.post("/predict/batch", json={"texts": TEXTS[1:]}).json()["predictions"]
        model_texts = [single["redaction"]["model_text"]] + TEXTS[1:]
    store = ReviewStore(database)
    rows = traffic_window(store, 100)
    store.engine.dispose()
    assert sample(client, WRITTEN, result="written") == 3
    assert EMAIL not in str(rows) and "jane" not in str(rows)
    assert [row["text"] for row in rows] == model_texts
    for row, answer in zip(rows, [single] + batch):
        route = answer["route"]
        expected = (route["words"], route["language"], answer["label"], answer["confidence"], route["model"])
        assert (
            row["words"],
            row["language"],
            row["label"],
            row["confidence"],
            row["route_model"],
        ) == expected


def test_a_sample_share_of_zero_records_nothing(tiny_service, tmp_path):
    database = f"sqlite:///{tmp_path / 'review.db'}"
    with agent_app(tmp_path, tiny_service, DATABASE_URL=database, TRAFFIC_SAMPLE_SHARE=0) as client:
        assert client.post("/predict/batch", json={"texts": TEXTS}).status_code == 200
    store = ReviewStore(database)
    assert traffic_window(store, 100) == []
    store.engine.dispose()
    assert sample(client, WRITTEN, result="written") == 0


def ticket(text: str) -> tuple[Ticket, dict]:
    answer = {
        "label": "Access",
        "confidence": 0.8,
        "route": {"model": "tfidf", "models": [{"name": "t", "version": "3", "kind": "tfidf"}]},
    }
    return Ticket(Scrubbed(text, [], text), len(text.split()), Language("en", 1.0, True)), answer


def test_the_share_samples_the_bound_drops_and_both_are_counted(tmp_path):
    store, metrics = store_at(tmp_path), AgentMetrics()
    draws = iter([0.1, 0.9, 0.4, 0.6, 0.2, 0.3])  # under 0.5: sampled
    writer = TrafficWriter(lambda: store, metrics, share=0.5, max_pending=2, draw=lambda: next(draws))
    for number in range(6):
        writer.offer(*ticket(f"ticket number {number}"))
    asyncio.run(writer.flush())
    assert [row["text"] for row in traffic_window(store, 10)] == ["ticket number 0", "ticket number 2"]
    assert [row["words"] for row in traffic_window(store, 10)] == [3, 3]
    counts = {r: metrics.registry.get_sample_value(WRITTEN, {"result": r}) for r in ("written", "dropped")}
    assert counts == {"written": 2, "dropped": 2}  # numbers 4 and 5 found the queue full


def test_a_database_that_fails_drops_the_rows_counts_them_and_logs_once(tmp_path, caplog):
    metrics = AgentMetrics()

    def broken():
        raise ConnectionError("database down")

    writer = TrafficWriter(broken, metrics)
    caplog.set_level(logging.WARNING, logger="callcenterai.agent")
    for attempt in range(3):
        writer.offer(*ticket(f"ticket {attempt} of three"))
        asyncio.run(writer.flush())
    assert metrics.registry.get_sample_value(WRITTEN, {"result": "failed"}) == 3
    assert len(writer.traffic) == 0  # dropped, not kept
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["traffic samples"]


def test_the_store_keeps_the_newest_rows_and_the_shadow_results_are_written_too(tmp_path):
    store = store_at(tmp_path)
    writer = TrafficWriter(lambda: store, AgentMetrics(), keep_rows=2)
    for number in range(4):
        writer.offer(*ticket(f"ticket number {number}"))
    versions = {"backend": "tfidf", "model_name": "t", "champion_version": "3", "challenger_version": "4"}
    writer.add_shadowed(
        [{**versions, "tickets": 2, "answered": 0, "agreed": 0, "error": "timeout"}],
        [
            {
                **versions,
                "ticket_key": "k",
                "champion_label": "Access",
                "champion_confidence": 0.8,
                "error": "timeout",
            }
        ],
    )
    writer.pruned_at = float("-inf")  # prune now, not a minute from now
    asyncio.run(writer.flush())
    assert [row["text"] for row in traffic_window(store, 10)] == ["ticket number 2", "ticket number 3"]
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT error FROM shadow_outcomes").all() == [("timeout",)]
        assert connection.exec_driver_sql("SELECT tickets, error FROM shadow_calls").all() == [(2, "timeout")]
