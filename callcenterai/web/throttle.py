"""Sign-in throttling: after too many failed sign-ins for one name, that name waits.

Counted per name, not per client address: behind a proxy every client can share
one address, and one person guessing must not lock out the whole help desk. The
cost is that someone can keep a known reviewer waiting; argon2 already makes
each guess slow. In process memory, like the sessions' secret default.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Callable


class SignInThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_names: int = 10_000,
    ):
        self.max_failures, self.window = max_failures, window_seconds
        self.clock, self.max_names = clock, max_names
        self.failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, name: str) -> float:
        """Seconds before ``name`` may try again; 0 when it may now."""
        recent = self._recent(name)
        if len(recent) < self.max_failures:
            return 0.0
        return max(recent[0] + self.window - self.clock(), 0.0)

    def failed(self, name: str) -> None:
        recent = self._recent(name)
        recent.append(self.clock())
        while len(recent) > self.max_failures:
            recent.popleft()
        self.failures[name] = recent
        self.failures.move_to_end(name)
        while len(self.failures) > self.max_names:  # made-up names must not grow memory
            self.failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        self.failures.pop(name, None)

    def _recent(self, name: str) -> deque[float]:
        now = self.clock()
        recent = self.failures.get(name, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
