"""Where and for how long the agent scrubs a request's tickets.

Every pattern the scrubber runs is linear in the text, but a ticket at the size
limit still costs milliseconds: on the event loop that is milliseconds in which
/health and every other request wait. So a request with more than a few
thousand characters is scrubbed in a worker thread, from a small pool (the
threads share the interpreter with the event loop, so more of them would not
scrub faster). Each request has a time budget, counted from its arrival: past
it, waiting for a worker or scrubbing, the request is answered 503 with the
reason (``ScrubTimeout``), and no partly scrubbed text goes anywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import anyio
from prometheus_client import Counter

from callcenterai.pii.budget import Budget, ScrubTimeout

Result = TypeVar("Result")


@dataclass(frozen=True)
class ScrubBudget:
    """The agent's scrubbing settings (``SCRUB_*``; see docs/settings.md)."""

    inline_max_chars: int = 2_000  # up to this many characters a request is scrubbed on the loop
    seconds: float = 1.0  # what one request may spend scrubbing, waiting for a worker included
    per_text_seconds: float = 0.02  # added for each ticket of a batch
    workers: int = 2


class ScrubLane:
    def __init__(self, budget: ScrubBudget, timeouts: Counter):
        self.budget, self.timeouts = budget, timeouts
        self.workers = anyio.CapacityLimiter(budget.workers)

    def deadline(self, texts: int = 1) -> float:
        """When a request of ``texts`` tickets arriving now must be scrubbed, on time.monotonic()'s clock."""
        return time.monotonic() + self.budget.seconds + self.budget.per_text_seconds * (texts - 1)

    async def run(self, scrub: Callable[[], Result], chars: int, deadline: float) -> Result:
        """``scrub()`` (which honours ``deadline`` itself): on the loop for a short request, else
        in a worker; ScrubTimeout when the deadline passes first, counted."""
        try:
            if chars <= self.budget.inline_max_chars:
                return scrub()
            with anyio.move_on_after(deadline - time.monotonic()):
                return await anyio.to_thread.run_sync(scrub, limiter=self.workers)
            raise Budget(deadline, chars).timeout("waiting for a worker")
        except ScrubTimeout:
            self.timeouts.inc()
            raise
