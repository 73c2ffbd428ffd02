"""Flagged tickets to the review store, off the request path, through a spool on disk.

A prediction only puts its record, with a random ticket key, on a bounded queue in
memory. One background task appends what is queued to the spool (``agent.spool``)
in one transaction; another writes the spool's oldest tickets to the store in
batches and removes them from the spool once the store has committed them. A
slow or unreachable database therefore never slows or fails a prediction: failed
writes are counted (``callcenterai_agent_review_store_total{result="error"}``,
tickets per attempt) and tried again, oldest first, after a pause that doubles
up to a bound. When the queue or the spool is full, new tickets are dropped and
counted (``result="dropped"``), not waited for: a dead database cannot fill the disk.
On SIGTERM ``stop`` appends what is in memory and delivers for a short while; the
spool's docstring says what survives which kind of stop.

Without a spool (``REVIEW_SPOOL=0``, kept to measure what the spool costs) the
queue is written to the store directly and a failed batch is counted and lost.

Whoever can reach ``/predict`` can make the agent flag tickets, and reviewed
tickets become training rows; so a ``FlagGate`` lets each redacted text in once
per window and at most so many new tickets per window, and counts the rest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Callable

import anyio

from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.spool import Spool
from callcenterai.text import normalize_text

log = logging.getLogger("callcenterai.agent")
BATCH = 100
# At most one spool append per APPEND_EVERY and, unless a full batch waits, one store write per
# DELIVER_EVERY: under load each transaction carries many tickets instead of one.
APPEND_EVERY, DELIVER_EVERY = 0.05, 0.2


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
    """``offer`` on the request path; ``run`` as a background task from start; ``stop`` at shutdown."""

    def __init__(
        self,
        url: str,
        metrics: AgentMetrics,
        gate: FlagGate | None = None,
        password: str | None = None,
        max_queue: int = 10_000,
        spool: Spool | None = None,
        spool_max: int = 100_000,
        drain_seconds: float = 3.0,
        retry_seconds: tuple[float, float] = (0.5, 5.0),
    ):
        self.url, self.metrics, self.gate, self.password = url, metrics, gate, password
        self.max_queue, self.spool, self.spool_max = max_queue, spool, spool_max
        self.drain_seconds, self.retry_seconds = drain_seconds, retry_seconds
        self.queue: deque[dict] = deque()  # flagged, not yet in the spool (or the store, without one)
        self.appending = 0  # taken from the queue, being appended to the spool
        self.queued, self.spooled, self.stopping = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.store = None  # made (and migrated) on first use, retried until it works
        self.opening = threading.Lock()
        if spool is not None:
            metrics.review_spool_depth.set_function(lambda: spool.depth)
            metrics.review_spool_oldest.set_function(spool.oldest_seconds)

    def _full(self) -> bool:
        if len(self.queue) >= self.max_queue:
            return True
        waiting = len(self.queue) + self.appending
        return self.spool is not None and self.spool.depth + waiting >= self.spool_max

    def offer(self, record: dict) -> str | None:
        """Queue a flagged ticket; its key (the record's ``ticket_key``, else a new one), or None
        when it is refused (counted)."""
        refused = "dropped" if self._full() else None
        if refused is None and self.gate is not None:
            refused = self.gate.refusal(record["text"])
        if refused is not None:
            self.metrics.review_store.labels(result=refused).inc()
            return None
        key = record.get("ticket_key") or uuid.uuid4().hex
        self.queue.append({**record, "ticket_key": key, "created_at": dt.datetime.now(dt.timezone.utc)})
        self.queued.set()
        return key

    def opened_store(self):
        """The review store, made and migrated on first use (raises while it cannot be reached):
        the traffic writer shares it, so one process migrates the database once."""
        self._open()
        return self.store

    def _take(self, limit: int) -> list[dict]:
        return [self.queue.popleft() for _ in range(min(limit, len(self.queue)))]

    def _open(self) -> None:
        with self.opening:  # one migration at a time: the loop's and, at shutdown, the drain's
            if self.store is None:
                from callcenterai.review.store import ReviewStore

                store = ReviewStore(self.url, self.password)
                store.migrate()
                self.store = store

    def _write(self, records: list[dict]) -> int:
        """Store ``records`` (from the queue or the spool); how many were new. Raises when the store fails."""
        self._open()
        written = self.store.add_flagged([as_row(record) for record in records])
        if self.spool is not None:
            self.spool.remove([record["ticket_key"] for record in records])
        return written

    def _counted(self, records: list[dict], error: Exception | None, written: int = 0) -> None:
        if error is None:
            self.metrics.review_store.labels(result="written").inc(written)
            return
        self.metrics.review_store.labels(result="error").inc(len(records))
        kept = "kept in the spool" if self.spool is not None else "lost"
        log.warning(
            "review store: %d flagged tickets not written (%s): %s", len(records), kept, error_name(error)
        )

    async def run(self) -> None:
        loops = [self._write_queue()] if self.spool is None else [self._append_queue(), self._deliver_spool()]
        self.tasks = [asyncio.create_task(loop) for loop in loops]
        await asyncio.gather(*self.tasks)

    async def _open_at_start(self) -> None:
        try:  # the schema at once, so the review page finds it before the first flag
            await anyio.to_thread.run_sync(self._open)
        except Exception as exc:  # noqa: BLE001 - tried again with the first batch
            log.warning("review store unavailable at start: %s", error_name(exc))

    async def _wait(self, event: asyncio.Event, seconds: float | None = None) -> None:
        """Until ``event`` is set, ``seconds`` pass or ``stop`` is called."""
        if seconds is not None and seconds <= 0:
            return
        waits = [asyncio.ensure_future(e.wait()) for e in (event, self.stopping)]
        _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()

    async def _append_queue(self) -> None:
        while not self.stopping.is_set():
            self.queued.clear()
            records = self._take(self.max_queue)
            if not records:
                await self._wait(self.queued)
                continue
            self.appending, started = len(records), time.monotonic()
            try:
                await anyio.to_thread.run_sync(self.spool.append, records)
            except Exception as exc:  # noqa: BLE001 - a full or broken disk: kept in memory, tried again
                self.queue.extendleft(reversed(records))
                log.error("review spool: %d flagged tickets not appended: %s", len(records), error_name(exc))
                await self._wait(self.stopping, self.retry_seconds[1])
            else:
                self.spooled.set()
            finally:
                self.appending = 0
            await self._wait(self.stopping, started + APPEND_EVERY - time.monotonic())

    async def _deliver_spool(self) -> None:
        pause = self.retry_seconds[0]
        await self._open_at_start()
        while not self.stopping.is_set():
            self.spooled.clear()
            records: list[dict] = []
            try:
                records = await anyio.to_thread.run_sync(self.spool.oldest, BATCH)
                if not records:
                    await self._wait(self.spooled)
                    continue
                written = await anyio.to_thread.run_sync(self._write, records)
            except Exception as exc:  # noqa: BLE001 - any database failure: count it, keep serving
                self._counted(records, exc)
                await self._wait(self.stopping, pause)  # a database that is down is not hammered
                pause = min(pause * 2, self.retry_seconds[1])
            else:
                self._counted(records, None, written)
                pause = self.retry_seconds[0]
                if len(records) < BATCH:
                    await self._wait(self.stopping, DELIVER_EVERY)

    async def _write_queue(self) -> None:
        """Without a spool: the queue straight to the store, a failed batch counted and lost."""
        await self._open_at_start()
        while not self.stopping.is_set():
            self.queued.clear()
            records = self._take(BATCH)
            if not records:
                await self._wait(self.queued)
                continue
            try:
                written = await anyio.to_thread.run_sync(self._write, records)
            except Exception as exc:  # noqa: BLE001 - any database failure: count it, keep serving
                self._counted(records, exc)
                await self._wait(self.stopping, self.retry_seconds[1])
            else:
                self._counted(records, None, written)

    async def stop(self) -> None:
        """At shutdown, once requests in flight are answered: the queue to the spool, then at most
        ``drain_seconds`` writing to the store; what is left waits in the spool for the next start."""
        deadline = time.monotonic() + self.drain_seconds
        self.stopping.set()
        # Each loop ends after the step it is in: an append or a store write is never cut in half.
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.drain_seconds)
        if self.spool is not None:
            await anyio.to_thread.run_sync(self._append_rest)
        await anyio.to_thread.run_sync(self._drain, deadline)
        if self.spool is not None:
            self.spool.close()

    def _append_rest(self) -> None:
        records = self._take(len(self.queue))
        if records:
            self.spool.append(records)

    def _drain(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            records = self.spool.oldest(BATCH) if self.spool is not None else self._take(BATCH)
            if not records:
                return
            try:
                written = self._write(records)
            except Exception as exc:  # noqa: BLE001 - the rest waits for the next start
                self._counted(records, exc)
                return
            self._counted(records, None, written)
        left = self.spool.depth if self.spool is not None else len(self.queue)
        if left:
            log.warning("review store: %d flagged tickets left for the next start (drain time over)", left)


def as_row(record: dict) -> dict:
    """A queued or spooled record as the store's row (the spool keeps times as ISO 8601 text)."""
    created_at = record.get("created_at")
    if isinstance(created_at, str):
        return {**record, "created_at": dt.datetime.fromisoformat(created_at)}
    return record


def error_name(error: BaseException) -> str:
    return type(error).__name__
