"""Traffic samples, shadow outcomes and shadow calls on a real SQLite file and a real PostgreSQL server,
their tables made by migrations 0005 and 0006."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from callcenterai.review.schema import ShadowCall, ShadowOutcome
from callcenterai.review.store import MIGRATIONS
from callcenterai.review.traffic import (
    add_shadow_calls,
    add_shadow_outcomes,
    add_traffic,
    prune_traffic,
    traffic_window,
)

START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def sample(number: int, **changes) -> dict:
    """An answered ticket as the agent hands it over, ``number`` minutes after START."""
    return {
        "text": f"ticket {number} from <EMAIL>",
        "words": 4,
        "language": "en",
        "label": "Access" if number % 2 else "Hardware",
        "confidence": 0.5 + number / 100,
        "route_model": "tfidf",
        "model_versions": {"tfidf": {"name": "tickets-tfidf", "version": "3"}},
        "created_at": START + dt.timedelta(minutes=number),
        **changes,
    }


def shadow(**changes) -> dict:
    return {
        "ticket_key": None,
        "backend": "tfidf",
        "model_name": "tickets-tfidf",
        "champion_version": "3",
        "challenger_version": "4",
        "champion_label": "Access",
        "champion_confidence": 0.8,
        "challenger_label": "Hardware",
        "challenger_confidence": 0.6,
        "latency_ms": 12.5,
        "error": None,
        **changes,
    }


def test_the_window_is_the_newest_rows_oldest_first_with_what_the_drift_checks_read(store):
    assert add_traffic(store, [sample(n) for n in (5, 1, 3, 4, 2)]) == 5
    window = traffic_window(store, limit=3)
    assert [row["text"] for row in window] == [f"ticket {n} from <EMAIL>" for n in (3, 4, 5)]
    assert set(window[0]) == {"text", "words", "language", "label", "confidence", "route_model", "created_at"}
    assert window[-1]["label"] == "Access" and window[-1]["confidence"] == pytest.approx(0.55)
    assert dt.datetime.fromisoformat(window[0]["created_at"]) == START + dt.timedelta(minutes=3)
    assert len(traffic_window(store, limit=100)) == 5 and add_traffic(store, []) == 0


def test_only_the_tables_columns_are_stored_never_what_else_the_agent_knows(store):
    add_traffic(store, [sample(1, request_id="req-123", client="10.0.0.7")])
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT * FROM traffic_samples").mappings().one()
    assert "req-123" not in str(dict(stored)) and "10.0.0.7" not in str(dict(stored))
    columns = {column["name"] for column in inspect(store.engine).get_columns("traffic_samples")}
    assert "request_id" not in columns and "client" not in columns


def test_pruning_keeps_the_newest_rows(store):
    add_traffic(store, [sample(n) for n in range(10)])
    assert prune_traffic(store, keep=4) == 6
    assert [row["text"] for row in traffic_window(store, 100)] == [
        f"ticket {n} from <EMAIL>" for n in range(6, 10)
    ]
    assert prune_traffic(store, keep=4) == 0 and prune_traffic(store, keep=10) == 0


def test_shadow_outcomes_keep_answers_and_failures_in_one_batch(store):
    rows = [
        shadow(ticket_key="k" * 32),
        shadow(challenger_label=None, challenger_confidence=None, error="timeout"),
    ]
    rows[1].pop("latency_ms")  # a row may leave out what it does not have
    assert add_shadow_outcomes(store, rows) == 2 and add_shadow_outcomes(store, []) == 0
    with store.sessions() as session:
        answered, failed = session.scalars(select(ShadowOutcome).order_by(ShadowOutcome.id)).all()
    assert answered.ticket_key == "k" * 32 and answered.challenger_label == "Hardware"
    assert answered.latency_ms == 12.5 and answered.created_at is not None
    assert failed.error == "timeout" and failed.challenger_label is None and failed.latency_ms is None


def test_shadow_calls_keep_each_calls_tally_latency_or_error(store):
    call = {
        "backend": "tfidf",
        "model_name": "tickets-tfidf",
        "champion_version": "3",
        "challenger_version": "4",
    }
    rows = [
        {**call, "tickets": 64, "answered": 64, "agreed": 60, "latency_ms": 31.5},
        {**call, "tickets": 5, "answered": 0, "agreed": 0, "error": "resting", "ticket_key": "k" * 32},
    ]
    assert add_shadow_calls(store, rows) == 2 and add_shadow_calls(store, []) == 0
    with store.sessions() as session:
        answered, rested = session.scalars(select(ShadowCall).order_by(ShadowCall.id)).all()
    assert (answered.tickets, answered.answered, answered.agreed) == (64, 64, 60)
    assert answered.latency_ms == 31.5 and answered.error is None and answered.created_at is not None
    assert (rested.tickets, rested.answered, rested.error, rested.latency_ms) == (5, 0, "resting", None)


def test_a_batch_with_a_bad_row_stores_nothing(store):
    with pytest.raises(Exception):
        add_traffic(store, [sample(1), sample(2, label=None)])
    assert traffic_window(store, 10) == []


def test_migrations_0005_and_0006_go_down_and_up_again(store):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    tables = set(inspect(store.engine).get_table_names())
    assert not tables & {"traffic_samples", "shadow_outcomes", "shadow_calls", "drift_runs"}
    store.migrate()
    assert {"traffic_samples", "shadow_outcomes", "shadow_calls", "drift_runs"} <= set(
        inspect(store.engine).get_table_names()
    )
