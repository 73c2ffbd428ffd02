"""Flagged tickets to the review store, off the request path.

A prediction only puts its record on a bounded queue; a background task writes
the queue in batches from a worker thread. A slow or unreachable database
therefore never slows or fails a prediction: records that cannot be written
are counted (``callcenterai_agent_review_store_total{result="error"}``), and
when the queue is full new ones are dropped and counted, not waited for.

Whoever can reach ``/predict`` can make the agent flag tickets, and reviewed
tickets become training rows; so a ``FlagGate`` lets each redacted text in once
per window and at most so many new tickets per window, and counts the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from typing import Callable

import anyio

from callcenterai.agent.metrics import AgentMetrics
from callcenterai.text import normalize_text

log = logging.getLogger("callcenterai.agent")
BATCH = 100


class FlagGate:
    """Which flagged tickets may go to the store: within any ``window`` seconds, each text once
    (compared as the models read it) and at most ``max_new`` tickets."""

    def __init__(self, window: float, max_new: int, clock: Callable[[], float] = time.monotonic):
        self.window, self.max_new, self.clock = window, max_new, clock
        # Digest of each text let in within the window -> when, oldest first: at most max_new entries.
        self.let_in: OrderedDict[bytes, float] = OrderedDict()

    def refusal(self, text: str) -> str | None:
        """None, and the text is counted as let in; else why not: "duplicate" or "rate_limited"."""
        now = self.clock()
        while self.let_in and next(iter(self.let_in.values())) <= now - self.window:
            self.let_in.popitem(last=False)
        digest = hashlib.blake2b(normalize_text(text).encode(), digest_size=16).digest()
        if digest in self.let_in:
            return "duplicate"
        if len(self.let_in) >= self.max_new:
            return "rate_limited"
        self.let_in[digest] = now
        return None


class ReviewWriter:
    def __init__(
        self,
        url: str,
        metrics: AgentMetrics,
        gate: FlagGate | None = None,
        password: str | None = None,
        max_queue: int = 10_000,
    ):
        self.url, self.metrics, self.gate, self.password = url, metrics, gate, password
        self.queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=max_queue)
        self.store = None  # made (and migrated) by the worker, retried until it works

    def offer(self, record: dict) -> None:
        refused = "dropped" if self.queue.full() else None
        if refused is None and self.gate is not None:
            refused = self.gate.refusal(record["text"])
        if refused is not None:
            self.metrics.review_store.labels(result=refused).inc()
            return
        self.queue.put_nowait(record)

    def _open(self) -> None:
        if self.store is None:
            from callcenterai.review.store import ReviewStore

            store = ReviewStore(self.url, self.password)
            store.migrate()
            self.store = store

    def _write(self, records: list[dict]) -> int:
        self._open()
        return self.store.add_flagged(records)

    async def run(self) -> None:
        try:  # the schema at once, so the review page finds it before the first flag
            await anyio.to_thread.run_sync(self._open)
        except Exception as exc:  # noqa: BLE001 - tried again with the first batch
            log.warning("review store unavailable at start: %s", type(exc).__name__)
        while True:
            records = [await self.queue.get()]
            while len(records) < BATCH and not self.queue.empty():
                records.append(self.queue.get_nowait())
            try:
                written = await anyio.to_thread.run_sync(self._write, records)
            except Exception as exc:  # noqa: BLE001 - any database failure: count it, keep serving
                self.metrics.review_store.labels(result="error").inc(len(records))
                log.warning(
                    "review store: %d flagged tickets not written: %s", len(records), type(exc).__name__
                )
                await asyncio.sleep(1.0)  # a database that is down is not hammered
            else:
                self.metrics.review_store.labels(result="written").inc(written)
