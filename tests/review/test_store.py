"""The review store on a real SQLite file and a real PostgreSQL server, its schema made by the
Alembic migrations."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import IntegrityError

from callcenterai.review.schema import Base, FlaggedTicket, Review
from callcenterai.review.store import MIGRATIONS, AlreadyDecided, ReviewError, ReviewStore
from tests.helpers import REVIEW_LABELS, flagged_record


def test_the_migrations_make_the_schema_and_can_run_again(store):
    store.migrate()  # already at head: nothing to do, nothing lost
    tables = set(inspect(store.engine).get_table_names())
    assert {"flagged_tickets", "reviews", "alembic_version"} <= tables


def flagged_at(
    confidence: float, minutes_ago: int, text: str, label: str = "Access", reason="low_confidence"
):
    record = {**flagged_record(label, reason, text), "confidence": confidence}
    return {**record, "created_at": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)}


def test_pending_puts_the_least_sure_first_then_the_oldest_and_filters(store):
    store.add_flagged(
        [
            flagged_at(0.60, 50, "old and fairly sure"),
            flagged_at(0.35, 1, "new and unsure", "Hardware", "not_english"),
            flagged_at(0.60, 90, "oldest and fairly sure"),
            flagged_at(0.60, 0, "newest and fairly sure"),
        ]
    )
    assert [t.text for t in store.pending()] == [
        "new and unsure",
        "oldest and fairly sure",
        "old and fairly sure",
        "newest and fairly sure",
    ]
    assert [t.text for t in store.pending(limit=2)] == ["new and unsure", "oldest and fairly sure"]
    assert [t.suggested_label for t in store.pending(label="Hardware")] == ["Hardware"]
    assert [t.review_reason for t in store.pending(reason="not_english")] == ["not_english"]


def test_a_review_records_who_and_whether_they_agreed(store):
    store.add_flagged([flagged_record("Access"), flagged_record("Hardware")])
    first, second = sorted(store.pending(), key=lambda t: t.id)
    store.record_review(first.id, "ana", "Access", REVIEW_LABELS)
    store.record_review(second.id, "ben", "Access", REVIEW_LABELS)
    counts = store.counts(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    assert counts == {"pending": 0, "reviewed_since": 2, "agreement": 0.5}


def test_the_latest_decision_on_a_ticket_is_the_one_exported(store):
    store.add_flagged([flagged_record("Access", text="printer <PHONE> broken")])
    ticket = store.pending()[0]
    store.record_review(ticket.id, "ana", "Access", REVIEW_LABELS)
    store.record_review(ticket.id, "ben", "Hardware", REVIEW_LABELS, revision=True)
    assert [(text, label) for text, label, _ in store.reviewed()] == [("printer <PHONE> broken", "Hardware")]


def test_a_second_decision_on_a_ticket_needs_an_explicit_revision(store):
    store.add_flagged([flagged_record("Access")])
    ticket_id = store.pending()[0].id
    first = store.record_review(ticket_id, "ana", "Access", REVIEW_LABELS)
    with pytest.raises(AlreadyDecided, match=rf"ticket {ticket_id} was already decided \(Access, by ana\)"):
        store.record_review(ticket_id, "ben", "Hardware", REVIEW_LABELS)
    assert [label for _, label, _ in store.reviewed()] == ["Access"]  # the refused one left no trace
    revised = store.record_review(ticket_id, "ben", "Hardware", REVIEW_LABELS, revision=True)
    again = store.record_review(ticket_id, "ana", "Access", REVIEW_LABELS, revision=True)
    assert (first.revision, revised.revision, again.revision) == (0, 1, 2)


def test_of_reviewers_deciding_one_ticket_at_once_one_is_recorded(store):
    store.add_flagged([flagged_record("Access")])
    ticket_id = store.pending()[0].id
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        attempts = [
            pool.submit(store.record_review, ticket_id, name, "Hardware", REVIEW_LABELS)
            for name in ("ana", "ben", "cy", "dee")
        ]
    outcomes = [type(attempt.exception()).__name__ if attempt.exception() else "ok" for attempt in attempts]
    assert sorted(outcomes) == ["AlreadyDecided"] * 3 + ["ok"]
    with store.sessions() as session:  # and the database itself holds one decision per revision
        ticket = session.get(FlaggedTicket, ticket_id)
        session.add(Review(ticket=ticket, reviewer="x", label="Access", agreed=True, revision=0))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_ticket_delivered_again_is_stored_once_and_tickets_without_a_key_always_are(store):
    first = [{**flagged_record(text="printer jam"), "ticket_key": "a" * 32}, flagged_record(text="no key")]
    assert store.add_flagged(first) == 2
    # The agent's replay after a commit whose acknowledgement it never saw, with a new ticket.
    again = [*first, {**flagged_record(text="screen broken"), "ticket_key": "b" * 32}]
    assert store.add_flagged(again) == 2  # "screen broken" and the second keyless ticket
    assert sorted(t.text for t in store.pending()) == ["no key", "no key", "printer jam", "screen broken"]
    assert store.add_flagged([]) == 0


def test_the_migrations_make_what_the_models_describe(store):
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_decisions_made_before_the_revision_numbers_are_numbered_by_the_migration(tmp_path):
    store = ReviewStore(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")  # the schema before revisions
        connection.execute(
            text(
                "INSERT INTO flagged_tickets (id, created_at, request_id, text, suggested_label, confidence,"
                " review_reason, route_model, route_reasons, probabilities, model_probabilities,"
                " model_versions, redacted) VALUES (7, '2026-01-01', 'r', 't', 'Access', 0.5,"
                " 'low_confidence', 'tfidf', '[]', '{}', '{}', '{}', '{}')"
            )
        )
        for review_id, label in ((3, "Access"), (5, "Hardware")):
            connection.execute(
                text(
                    "INSERT INTO reviews (id, ticket_id, reviewer, label, agreed, decided_at)"
                    " VALUES (:id, 7, 'ana', :label, 1, '2026-01-02')"
                ),
                {"id": review_id, "label": label},
            )
    store.migrate()
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, revision FROM reviews ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(3, 0), (5, 1)]
    assert store.record_review(7, "ben", "Access", REVIEW_LABELS, revision=True).revision == 2
    store.engine.dispose()


def test_tickets_stored_before_the_ticket_keys_stay_and_take_none(tmp_path):
    store = ReviewStore(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")  # the schema before ticket keys
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO flagged_tickets (id, created_at, request_id, text, suggested_label, confidence,"
                " review_reason, route_model, route_reasons, probabilities, model_probabilities,"
                " model_versions, redacted) VALUES (7, '2026-01-01', 'r', 'old', 'Access', 0.5,"
                " 'low_confidence', 'tfidf', '[]', '{}', '{}', '{}', '{}')"
            )
        )
    store.migrate()
    assert [(t.id, t.ticket_key) for t in store.pending()] == [(7, None)]
    assert store.add_flagged([{**flagged_record(text="new"), "ticket_key": "c" * 32}] * 2) == 1
    store.engine.dispose()


def test_an_unknown_ticket_or_label_is_refused(store):
    store.add_flagged([flagged_record()])
    with pytest.raises(ReviewError, match="unknown label"):
        store.record_review(store.pending()[0].id, "ana", "Lunch", REVIEW_LABELS)
    with pytest.raises(ReviewError, match="no flagged ticket 999"):
        store.record_review(999, "ana", "Access", REVIEW_LABELS)


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


class _Captured(Exception):
    """Stops a connection attempt once the test has seen what would reach the driver."""


@pytest.mark.parametrize("password", ["pg-secret-from-a-file", None])
def test_the_password_reaches_the_driver_at_connect_time_never_the_url(password):
    store = ReviewStore("postgresql+psycopg://callcenterai@review-db.invalid:5432/reviews", password)
    seen = {}

    @event.listens_for(store.engine, "do_connect")
    def _capture(dialect, record, args, params):
        seen.update(params)
        raise _Captured

    with pytest.raises(_Captured):
        store.engine.connect()
    assert seen.get("password") == password and seen["host"] == "review-db.invalid"
    assert store.engine.url.password is None and "pg-secret" not in str(store.url)
