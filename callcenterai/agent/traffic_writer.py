"""Answered tickets recorded for the drift checks, with the shadow results, written off the request path.

Each answered ticket, single or in a batch, becomes with probability ``TRAFFIC_SAMPLE_SHARE`` a
``traffic_samples`` row: the text as the models saw it (the scrubber's ``model_text``, personal data
removed), its words and language, the answer's label, confidence and route, and the models'
versions. ``offer`` only appends the row to a bounded queue in memory; one background task writes
what is queued, and the challenger calls' tallies and flagged tickets' outcomes ``agent.shadow``
hands over, about every ``WRITE_EVERY`` seconds, one transaction per table, and keeps the store's
newest ``TRAFFIC_KEEP_ROWS`` (pruned every
``PRUNE_EVERY``). These are samples, not the durable review queue: a full queue drops new rows and a
failed write drops its rows, both counted (``callcenterai_traffic_samples_total``), the failure
logged once until a write succeeds again; nothing is spooled or tried again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections import deque
from typing import Callable

import anyio

from callcenterai.agent.decisions import Ticket
from callcenterai.agent.metrics import AgentMetrics

log = logging.getLogger("callcenterai.agent")
WRITE_EVERY, PRUNE_EVERY = 0.5, 60.0
MAX_PENDING = 20_000  # rows of each kind waiting in memory


class TrafficWriter:
    """``offer`` on the request path, ``add_shadowed`` from the shadow worker, ``run`` as a
    background task, ``stop`` at shutdown. ``store_of`` gives the review store (made and migrated
    on first use; it raises while the database cannot be reached)."""

    def __init__(
        self,
        store_of: Callable,
        metrics: AgentMetrics,
        share: float = 1.0,
        keep_rows: int = 200_000,
        max_pending: int = MAX_PENDING,
        draw: Callable[[], float] = random.random,
        every: float = WRITE_EVERY,
    ):
        self.store_of, self.share, self.keep_rows = store_of, share, keep_rows
        self.max_pending, self.draw, self.every = max_pending, draw, every
        self.traffic: deque[dict] = deque()
        self.calls: deque[dict] = deque()
        self.outcomes: deque[dict] = deque()
        self.stopping, self.finished = asyncio.Event(), asyncio.Event()
        self.running = False
        self.pruned_at = time.monotonic()
        self.failing: str | None = None  # the last write's error, logged once
        self._counts = {r: metrics.traffic_samples.labels(result=r) for r in ("written", "dropped", "failed")}

    def offer(self, ticket: Ticket, answer: dict) -> None:
        if self.share < 1 and self.draw() >= self.share:
            return
        if len(self.traffic) >= self.max_pending:
            self._counts["dropped"].inc()
            return
        self.traffic.append(traffic_row(ticket, answer))

    def add_shadowed(self, calls: list[dict], outcomes: list[dict]) -> None:
        """Queue a challenger call's tallies and its flagged tickets' outcomes; past the bound they are
        lost (the shadow metrics counted each ticket)."""
        for queue, rows in ((self.calls, calls), (self.outcomes, outcomes)):
            queue.extend(rows[: max(self.max_pending - len(queue), 0)])

    async def run(self) -> None:
        self.running = True
        try:
            while not self.stopping.is_set():
                try:
                    await asyncio.wait_for(self.stopping.wait(), self.every)
                except TimeoutError:
                    pass
                await self.flush()
        finally:
            self.finished.set()

    async def flush(self) -> None:
        """Write what is queued now (in a worker thread), and prune when it is time."""
        traffic = take_all(self.traffic)
        shadowed = take_all(self.calls), take_all(self.outcomes)
        prune = time.monotonic() - self.pruned_at >= PRUNE_EVERY
        if traffic or any(shadowed) or prune:
            await anyio.to_thread.run_sync(self._write, traffic, shadowed, prune)

    def _write(self, traffic: list[dict], shadowed: tuple[list[dict], list[dict]], prune: bool) -> None:
        from callcenterai.review.traffic import (
            add_shadow_calls,
            add_shadow_outcomes,
            add_traffic,
            prune_traffic,
        )

        calls, outcomes = shadowed

        traffic_written = False
        try:
            store = self.store_of()
            if traffic:
                self._counts["written"].inc(add_traffic(store, traffic))
            traffic_written = True
            add_shadow_calls(store, calls)
            add_shadow_outcomes(store, outcomes)
            if prune:
                self.pruned_at = time.monotonic()
                prune_traffic(store, self.keep_rows)
        except Exception as exc:  # noqa: BLE001 - any database failure: samples are dropped, counted
            lost = 0 if traffic_written else len(traffic)
            self._counts["failed"].inc(lost)
            self._failed(type(exc).__name__, lost, sum(call["tickets"] for call in calls))
            return
        if self.failing is not None:
            log.info("traffic samples: written again")
            self.failing = None

    def _failed(self, error: str, traffic: int, outcomes: int) -> None:
        if self.failing != error:
            log.warning(
                "traffic samples: the review store refused a write (%s): %d samples and the shadow results "
                "of up to %d tickets dropped, and so on until a write succeeds",
                error,
                traffic,
                outcomes,
            )
        self.failing = error

    async def stop(self, seconds: float) -> None:
        """At shutdown, once requests are answered: one last write of what is queued, waited for
        at most ``seconds`` (a write under way then finishes in its thread, unwaited)."""
        self.stopping.set()
        try:
            if self.running:
                await asyncio.wait_for(self.finished.wait(), seconds)
            else:
                await asyncio.wait_for(asyncio.shield(asyncio.ensure_future(self.flush())), seconds)
        except TimeoutError:
            log.warning("traffic samples: the last write did not finish within %.1f s", seconds)


def take_all(queue: deque) -> list:
    return [queue.popleft() for _ in range(len(queue))]


def traffic_row(ticket: Ticket, answer: dict) -> dict:
    """What the drift checks keep of an answered ticket: no personal data (the text the models saw)."""
    return {
        "created_at": dt.datetime.now(dt.timezone.utc),
        "text": ticket.scrubbed.model_text,
        "words": ticket.words,
        "language": ticket.language.code[:8],
        "label": answer["label"],
        "confidence": answer["confidence"],
        "route_model": answer["route"]["model"],
        "model_versions": {
            ref["kind"]: {"name": ref["name"], "version": ref["version"]} for ref in answer["route"]["models"]
        },
    }
