"""Sign-in throttling: an attempt is counted before its password is checked, per name and per client.

Per name: after ``max_failures`` attempts that did not succeed within the
window, that name waits, so nobody guesses one reviewer's password quickly.
Counting before the check means a burst of parallel guesses is held to the
same number as a sequence. Per client address (an IPv6 client by its /64, the
block one host is given): a looser limit, so one client cannot try many names
quickly. Behind a proxy every client shares one address, which is why that
limit is looser and why the per-name one is not per address. The attempts live
in the review database (``review.web_state``), so every replica of the web
interface counts the same attempts; each replica checks and then counts, so
replicas racing on one name may let a few more through, never unboundedly.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Callable

from callcenterai.review.web_state import SignInAttempts

REASONS = ("too many failed sign-ins for this name", "too many failed sign-ins from this address")


@dataclass(frozen=True)
class Wait:
    """Why a sign-in must wait, and for how many seconds."""

    reason: str
    seconds: float


class SignInThrottle:
    def __init__(
        self,
        attempts: SignInAttempts,
        max_failures: int,
        window_seconds: float,
        max_failures_per_client: int,
        clock: Callable[[], float] = time.time,
    ):
        self.attempts, self.window, self.clock = attempts, window_seconds, clock
        self.limits = {"name": max_failures, "client": max_failures_per_client}

    def begin(self, name: str, client: str) -> Wait | None:
        """Count this attempt, before its password is checked; or say why it must wait (not counted)."""
        limits = [("name", name, self.limits["name"]), ("client", client_key(client), self.limits["client"])]
        over, seconds = self.attempts.count_unless_over(limits, self.clock(), self.window)
        if over < 0:
            return None
        return Wait(REASONS[over], seconds)

    def succeeded(self, name: str, client: str) -> None:
        """An attempt that succeeded is not held against its name, nor against its address."""
        self.attempts.clear("name", name)
        self.attempts.forget_latest("client", client_key(client))


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
