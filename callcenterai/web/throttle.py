"""Sign-in throttling: an attempt is counted before its password is checked, per name and per client.

Per name: after ``max_failures`` attempts that did not succeed within the
window, that name waits, so nobody guesses one reviewer's password quickly.
Counting before the check means a burst of parallel guesses is held to the
same number as a sequence. Per client address (an IPv6 client by its /64, the
block one host is given): a looser limit, so one client cannot flush the
bounded name table with made-up names and start a name's count afresh. Behind
a proxy every client shares one address, which is why that limit is looser and
why the per-name one is not per address. In process memory, like the sessions'
revocations.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable


class AttemptCounter:
    """Attempts per key within a sliding window; past ``max_keys``, the least recently counted go first."""

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float], max_keys: int):
        self.limit, self.window, self.clock, self.max_keys = limit, window_seconds, clock, max_keys
        self.attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> float:
        """Seconds before ``key`` may try again; 0 when it may now."""
        recent = self._recent(key)
        if len(recent) < self.limit:
            return 0.0
        return max(recent[0] + self.window - self.clock(), 0.0)

    def add(self, key: str) -> None:
        recent = self._recent(key)
        recent.append(self.clock())
        while len(recent) > self.limit:
            recent.popleft()
        self.attempts[key] = recent
        self.attempts.move_to_end(key)
        while len(self.attempts) > self.max_keys:  # made-up keys must not grow memory
            self.attempts.popitem(last=False)

    def forget_one(self, key: str) -> None:
        """An attempt that succeeded is not held against its key."""
        recent = self.attempts.get(key)
        if recent:
            recent.pop()

    def clear(self, key: str) -> None:
        self.attempts.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        recent = self.attempts.get(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent


@dataclass(frozen=True)
class Wait:
    """Why a sign-in must wait, and for how many seconds."""

    reason: str
    seconds: float


class SignInThrottle:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        max_failures_per_client: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ):
        self.names = AttemptCounter(max_failures, window_seconds, clock, max_keys)
        self.clients = AttemptCounter(max_failures_per_client, window_seconds, clock, max_keys)

    def begin(self, name: str, client: str) -> Wait | None:
        """Count this attempt, before its password is checked; or say why it must wait (not counted)."""
        address = client_key(client)
        for counter, key, reason in (
            (self.names, name, "too many failed sign-ins for this name"),
            (self.clients, address, "too many failed sign-ins from this address"),
        ):
            seconds = counter.retry_after(key)
            if seconds:
                return Wait(reason, seconds)
        self.names.add(name)
        self.clients.add(address)
        return None

    def succeeded(self, name: str, client: str) -> None:
        self.names.clear(name)
        self.clients.forget_one(client_key(client))


def client_key(host: str) -> str:
    """An IPv4 address as is, an IPv6 one by its /64, anything else (a socket path) as given."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
