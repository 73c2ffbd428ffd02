"""Flagged tickets to the review store, off the request path.

A prediction only puts its record on a bounded queue; a background task writes
the queue in batches from a worker thread. A slow or unreachable database
therefore never slows or fails a prediction: records that cannot be written
are counted (``callcenterai_agent_review_store_errors_total``), and when the
queue is full new ones are dropped and counted, not waited for.
"""

from __future__ import annotations

import asyncio
import logging

import anyio

from callcenterai.agent.metrics import AgentMetrics

log = logging.getLogger("callcenterai.agent")
BATCH = 100


class ReviewWriter:
    def __init__(self, url: str, metrics: AgentMetrics, max_queue: int = 10_000):
        self.url, self.metrics = url, metrics
        self.queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=max_queue)
        self.store = None  # made (and migrated) by the worker, retried until it works

    def offer(self, record: dict) -> None:
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.metrics.review_store.labels(result="dropped").inc()

    def _open(self) -> None:
        if self.store is None:
            from callcenterai.review.store import ReviewStore

            store = ReviewStore(self.url)
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
