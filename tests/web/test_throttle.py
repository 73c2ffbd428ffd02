"""Sign-in throttling with a clock the test moves."""

from __future__ import annotations

from callcenterai.web.throttle import SignInThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_waits_after_too_many_failures_and_may_try_again_after_the_window():
    clock = Clock()
    throttle = SignInThrottle(max_failures=3, window_seconds=60, clock=clock)
    for _ in range(2):
        throttle.failed("mallory")
        clock.now += 1
    assert throttle.retry_after("mallory") == 0
    throttle.failed("mallory")
    assert throttle.retry_after("mallory") == 58  # the first failure leaves the window at 1060
    assert throttle.retry_after("alice") == 0  # counted per name
    clock.now += 58
    assert throttle.retry_after("mallory") == 0


def test_a_success_clears_the_count():
    throttle = SignInThrottle(max_failures=2, window_seconds=60, clock=Clock())
    throttle.failed("alice")
    throttle.succeeded("alice")
    throttle.failed("alice")
    assert throttle.retry_after("alice") == 0


def test_made_up_names_do_not_grow_memory_without_bound():
    throttle = SignInThrottle(max_failures=2, window_seconds=60, clock=Clock(), max_names=100)
    for number in range(1000):
        throttle.failed(f"name{number}")
    assert len(throttle.failures) == 100 and "name999" in throttle.failures
