"""Sign-in throttling with a clock the test moves, counted in a review database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callcenterai.review.schema import SignInAttempt
from callcenterai.review.store import ReviewStore
from callcenterai.review.web_state import SignInAttempts
from callcenterai.web.throttle import SignInThrottle, client_key
from tests.helpers import Clock


@pytest.fixture()
def attempts(tmp_path) -> SignInAttempts:
    store = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    store.migrate()
    return SignInAttempts(store)


def test_a_name_waits_after_too_many_attempts_and_may_try_again_after_the_window(attempts):
    clock = Clock()
    throttle = SignInThrottle(attempts, 3, window_seconds=60, max_failures_per_client=100, clock=clock)
    for _ in range(3):
        assert throttle.begin("mallory", "10.0.0.1") is None  # counted, before any password is checked
        clock.now += 1
    wait = throttle.begin("mallory", "10.0.0.2")
    assert wait.reason == "too many failed sign-ins for this name"
    assert wait.seconds == 57  # the first attempt leaves the window at 1060
    assert throttle.begin("alice", "10.0.0.1") is None  # counted per name
    clock.now += 57
    assert throttle.begin("mallory", "10.0.0.1") is None


def test_two_throttles_on_one_database_count_the_same_attempts(attempts, tmp_path):
    clock = Clock()
    other_store = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")  # another replica's connection
    replicas = [
        SignInThrottle(found, 2, window_seconds=60, max_failures_per_client=100, clock=clock)
        for found in (attempts, SignInAttempts(other_store))
    ]
    assert replicas[0].begin("mallory", "10.0.0.1") is None
    assert replicas[1].begin("mallory", "10.0.0.2") is None
    assert replicas[0].begin("mallory", "10.0.0.3") is not None


def test_a_refused_attempt_is_not_counted(attempts):
    clock = Clock()
    throttle = SignInThrottle(attempts, 1, window_seconds=60, max_failures_per_client=100, clock=clock)
    throttle.begin("mallory", "10.0.0.1")
    for _ in range(10):
        assert throttle.begin("mallory", "10.0.0.1") is not None
    clock.now += 60
    assert throttle.begin("mallory", "10.0.0.1") is None


def test_a_success_clears_the_name_and_is_not_held_against_the_address(attempts):
    throttle = SignInThrottle(attempts, 2, window_seconds=60, max_failures_per_client=2, clock=Clock())
    throttle.begin("alice", "10.0.0.1")
    throttle.succeeded("alice", "10.0.0.1")
    throttle.begin("alice", "10.0.0.1")
    assert throttle.begin("alice", "10.0.0.1") is None  # two attempts now, the success not among them


def test_one_address_is_limited_across_names(attempts):
    throttle = SignInThrottle(attempts, 5, window_seconds=60, max_failures_per_client=3, clock=Clock())
    for number in range(3):
        assert throttle.begin(f"made-up-{number}", "2001:db8::1") is None
    wait = throttle.begin("made-up-3", "2001:db8::99")  # the same /64: the same client
    assert wait is not None and wait.reason == "too many failed sign-ins from this address"
    assert throttle.begin("made-up-3", "2001:db8:0:1::1") is None  # another /64


def test_client_keys():
    assert client_key("192.0.2.1") == "192.0.2.1"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("testclient") == "testclient"


def test_attempts_that_left_the_window_are_deleted_not_kept(attempts):
    clock = Clock()
    throttle = SignInThrottle(attempts, 2, window_seconds=60, max_failures_per_client=10_000, clock=clock)
    for number in range(100):
        throttle.begin(f"name{number}", "10.0.0.1")
    clock.now += 61
    throttle.begin("late", "10.0.0.1")
    with attempts.sessions() as session:
        keys = set(session.scalars(select(SignInAttempt.key)))
        count = session.scalar(select(func.count(SignInAttempt.id)))
    assert keys == {"late", "10.0.0.1"} and count == 2
