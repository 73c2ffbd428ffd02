"""The review store on a real SQLite file and a real PostgreSQL server, its schema made by the
Alembic migrations."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
from sqlalchemy import inspect

from callcenterai.review.store import ReviewError, ReviewStore

LABELS = ["Access", "Hardware"]


def record(label="Access", reason="low_confidence", text="mail <EMAIL> please"):
    return {
        "request_id": "r1",
        "text": text,
        "suggested_label": label,
        "confidence": 0.55,
        "review_reason": reason,
        "route_model": "ensemble",
        "route_reasons": ["low_confidence"],
        "probabilities": {"Access": 0.55, "Hardware": 0.45},
        "model_probabilities": {"tfidf": {"Access": 0.6, "Hardware": 0.4}},
        "model_versions": {"tfidf": {"name": "t", "version": "1", "kind": "tfidf"}},
        "redacted": {"EMAIL": 1},
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same tests on the default SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = ReviewStore(url)
    store.migrate()
    yield store
    store.engine.dispose()


def test_the_migrations_make_the_schema_and_can_run_again(store):
    store.migrate()  # already at head: nothing to do, nothing lost
    tables = set(inspect(store.engine).get_table_names())
    assert {"flagged_tickets", "reviews", "alembic_version"} <= tables


def test_pending_is_newest_first_and_filters_by_label_and_reason(store):
    store.add_flagged([record("Access"), record("Hardware", "not_english"), record("Access", text="third")])
    assert [t.text for t in store.pending()] == ["third", "mail <EMAIL> please", "mail <EMAIL> please"]
    assert [t.suggested_label for t in store.pending(label="Hardware")] == ["Hardware"]
    assert [t.review_reason for t in store.pending(reason="not_english")] == ["not_english"]


def test_a_review_records_who_and_whether_they_agreed(store):
    store.add_flagged([record("Access"), record("Hardware")])
    first, second = sorted(store.pending(), key=lambda t: t.id)
    store.record_review(first.id, "ana", "Access", LABELS)
    store.record_review(second.id, "ben", "Access", LABELS)
    counts = store.counts(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    assert counts == {"pending": 0, "reviewed_since": 2, "agreement": 0.5}


def test_the_latest_decision_on_a_ticket_is_the_one_exported(store):
    store.add_flagged([record("Access", text="printer <PHONE> broken")])
    ticket = store.pending()[0]
    store.record_review(ticket.id, "ana", "Access", LABELS)
    store.record_review(ticket.id, "ben", "Hardware", LABELS)
    assert [(text, label) for text, label, _ in store.reviewed()] == [("printer <PHONE> broken", "Hardware")]


def test_an_unknown_ticket_or_label_is_refused(store):
    store.add_flagged([record()])
    with pytest.raises(ReviewError, match="unknown label"):
        store.record_review(store.pending()[0].id, "ana", "Lunch", LABELS)
    with pytest.raises(ReviewError, match="no flagged ticket 999"):
        store.record_review(999, "ana", "Access", LABELS)


def test_two_processes_migrating_a_fresh_postgresql_database_at_once_both_succeed(postgres_url):
    # The agent and the web interface both migrate at start; without the lock one of them
    # would fail on a table the other has just created.
    stores = [ReviewStore(postgres_url) for _ in range(2)]
    pool = concurrent.futures.ThreadPoolExecutor(2)
    migrations = [pool.submit(store.migrate) for store in stores]
    for migration in migrations:
        migration.result(timeout=60)  # without the lock they can also block each other for good
    pool.shutdown()
    assert {"flagged_tickets", "reviews"} <= set(inspect(stores[0].engine).get_table_names())
    for store in stores:
        store.engine.dispose()
