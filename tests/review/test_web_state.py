"""The web interface's shared state (batch jobs, sign-in attempts, revoked sessions) on a real SQLite file
and a real PostgreSQL server, its tables made by migration 0004."""

from __future__ import annotations

import concurrent.futures

import pytest

from callcenterai.review.store import ReviewStore
from callcenterai.review.web_state import BatchJobs, RevokedSessions, SignInAttempts


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_store(request, tmp_path) -> ReviewStore:
    url = f"sqlite:///{tmp_path / 'review.db'}" if request.param == "sqlite" else None
    store = ReviewStore(url or request.getfixturevalue("postgres_url"))
    store.migrate()
    return store


def test_a_job_is_read_by_its_owner_only_and_failed_once_its_heartbeat_is_stale(shared_store):
    jobs = BatchJobs(shared_store)
    jobs.create("a" * 32, "owner", total=2, now=100.0)
    jobs.progress("a" * 32, [{"row": 1, "label": "Hardware"}], now=110.0)
    assert jobs.get("a" * 32, "someone else") is None and jobs.running() == 1
    assert jobs.fail_abandoned(silent_since=105.0, now=120.0, reason="gone") == 0  # it wrote at 110
    assert jobs.fail_abandoned(silent_since=111.0, now=120.0, reason="gone") == 1
    job = jobs.get("a" * 32, "owner")
    assert job.rows == [{"row": 1, "label": "Hardware"}] and job.error == "gone" and job.finished_at == 120.0
    assert jobs.delete_finished(before=119.0) == 0 and jobs.delete_finished(before=121.0) == 1


def test_parallel_sign_in_checks_for_one_name_let_only_the_limit_through(shared_store):
    attempts = [SignInAttempts(ReviewStore(shared_store.url)) for _ in range(4)]  # four replicas
    limits = [("name", "mallory", 3)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(lambda n: attempts[n % 4].count_unless_over(limits, now=1000.0, window=60), range(12))
        )
    assert sum(over < 0 for over, _ in outcomes) == 3
    assert all(seconds == 60 for over, seconds in outcomes if over == 0)


def test_a_revoked_session_is_seen_by_every_replica_until_it_would_have_expired(shared_store):
    first, second = RevokedSessions(shared_store), RevokedSessions(ReviewStore(shared_store.url))
    first.revoke("sid-1", until=200.0, now=100.0)
    first.revoke("sid-1", until=200.0, now=100.0)  # twice: once stored
    assert second.revoked("sid-1") and not second.revoked("sid-2")
    second.revoke("sid-2", until=400.0, now=300.0)  # sid-1 has expired by now: deleted
    assert not first.revoked("sid-1") and first.revoked("sid-2")
