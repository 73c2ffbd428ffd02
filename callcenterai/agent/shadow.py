"""Tickets a champion answered, sent to the same backend's challenger too, off the request path.

When a classifier service serves a challenger (its /ready names one), each ticket that backend
answered is offered here once the answer is decided, with probability ``SHADOW_SHARE``. ``offer``
only appends to a bounded queue in memory, one per backend (full: the ticket is dropped and
counted). One background task takes what is queued, up to a batch, and sends it to
``<backend>/challenger/predict/batch``, with at most ``SHADOW_MAX_CONCURRENCY`` calls in flight,
each within ``SHADOW_TIMEOUT_SECONDS`` (plus the champions' allowance per ticket); while calls are
in flight tickets gather, so under load each call carries a full batch. The calls share the agent's
pooled client, and the settings keep the concurrency under the pool's size: a challenger that hangs
holds a few connections for its timeout, never the champions'. Its failures are counted per ticket,
logged once per change of state, and never reach a caller: the champion's answer is the only one
anyone sees. After a failed call the challenger rests (``SHADOW_REST_SECONDS``, doubling while it
keeps failing, at most ``MAX_REST``): its tickets are counted failed and stored as not sent, so a
broken challenger costs neither calls nor work in its service.

Each challenger answer is compared with the answer of the champion on the same backend (TF-IDF with
TF-IDF; the transformer only for the tickets it was asked about). Each call becomes a tally, a
``shadow_calls`` row per champion version among its tickets (tickets, answered, agreed, latency or
error), and each flagged ticket in it a ``shadow_outcomes`` row with the review store's key of the
ticket: a reviewer's decision later says which of the two was right. Both go to ``record`` (the
traffic writer); a row per call rather than per ticket keeps the store's work per ticket small.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from callcenterai.agent.backends import Backend, ChallengerFailed
from callcenterai.agent.decisions import Outcome
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.shadow_rows import Shadowed, answers_of, outcome_row, tallies

log = logging.getLogger("callcenterai.agent")


@dataclass(frozen=True)
class ShadowLimits:
    share: float = 1.0  # of the tickets a backend with a challenger answered
    timeout: float = 2.0  # seconds, one challenger call ...
    per_text: float = 0.0  # ... plus this for each ticket in it (as the champions' batch calls)
    max_concurrency: int = 2  # challenger calls in flight, both backends together
    max_pending: int = 2000  # tickets waiting, per backend
    batch: int = 64  # tickets per call, at most (kept within the classifiers' MAX_BATCH_SIZE)
    rest: float = 1.0  # seconds nothing is sent to a challenger after a failed call (0: no rest)


# A challenger failing for long is asked again at least this often.
MAX_REST = 30.0
# The ``error`` of a ticket not sent because its challenger is resting after a failure.
RESTING = "resting"


class Shadow:
    """``offer`` on the request path; ``run`` as a background task; ``stop`` at shutdown."""

    def __init__(
        self,
        backends: dict[str, Backend],
        metrics: AgentMetrics,
        limits: ShadowLimits = ShadowLimits(),
        record: Callable[[list[dict], list[dict]], None] | None = None,
        draw: Callable[[], float] = random.random,
    ):
        self.backends, self.metrics, self.limits = backends, metrics, limits
        self.record, self.draw = record, draw
        self.queues: dict[str, deque[Shadowed]] = {kind: deque() for kind in backends}
        self.queued = asyncio.Event()
        self.slots = asyncio.Semaphore(limits.max_concurrency)
        self.calls: set[asyncio.Task] = set()
        self.errors: dict[str, str | None] = dict.fromkeys(backends)  # each challenger's last failure
        self.turn = 0  # which backend's queue is served next, in turn
        self.rest_seconds = dict.fromkeys(backends, 0.0)  # each challenger's current rest ...
        self.rest_until = dict.fromkeys(backends, 0.0)  # ... and when it ends (time.monotonic)
        self._results = {
            (kind, result): metrics.shadow_tickets.labels(backend=kind, result=result)
            for kind in backends
            for result in ("agreed", "disagreed", "failed", "dropped")
        }
        self._confidences = {
            (kind, model): metrics.shadow_confidence.labels(backend=kind, model=model)
            for kind in backends
            for model in ("champion", "challenger")
        }
        metrics.shadow_queue_depth.set_function(self.depth)

    def depth(self) -> int:
        return sum(len(queue) for queue in self.queues.values())

    def offer(self, text: str, outcomes: dict[str, Outcome | None], ticket_key: str | None = None) -> None:
        """Queue the ticket for the challenger of each backend that answered it and has one."""
        for kind, outcome in outcomes.items():
            challenger = self.backends[kind].state.challenger
            if challenger is None or outcome is None or outcome.answer is None:
                continue
            if self.limits.share < 1 and self.draw() >= self.limits.share:
                continue
            queue = self.queues[kind]
            if len(queue) >= self.limits.max_pending:
                self._results[kind, "dropped"].inc()
                continue
            queue.append(Shadowed(kind, text, outcome.answer, str(challenger.get("version")), ticket_key))
            self.queued.set()

    async def run(self) -> None:
        while True:
            # A slot first, the tickets after: while every slot is busy, tickets gather into a batch.
            await self.slots.acquire()
            kind = await self._next_backend()
            queue = self.queues[kind]
            items = [queue.popleft() for _ in range(min(self.limits.batch, len(queue)))]
            if time.monotonic() < self.rest_until[kind]:
                self._unsent(kind, items)
                self.slots.release()
                continue
            call = asyncio.create_task(self._call(kind, items))
            self.calls.add(call)
            call.add_done_callback(self._finished)

    def _finished(self, call: asyncio.Task) -> None:
        self.calls.discard(call)
        self.slots.release()

    async def _next_backend(self) -> str:
        """The next backend in turn with tickets waiting (waits for one)."""
        kinds = list(self.queues)
        while True:
            self.queued.clear()
            for step in range(len(kinds)):
                kind = kinds[(self.turn + step) % len(kinds)]
                if self.queues[kind]:
                    self.turn = (self.turn + step + 1) % len(kinds)
                    return kind
            await self.queued.wait()

    async def _call(self, kind: str, items: list[Shadowed]) -> None:
        started = time.perf_counter()
        try:
            timeout = self.limits.timeout + self.limits.per_text * len(items)
            reply = await self.backends[kind].challenger_batch([i.text for i in items], timeout)
            answers, version = answers_of(reply, len(items))
        except ChallengerFailed as exc:
            self._failed(kind, items, exc.error)
            self._rest(kind)
            return
        seconds = time.perf_counter() - started
        self.rest_seconds[kind] = 0.0
        self._health(kind, None)
        self.metrics.shadow_latency.labels(backend=kind).observe(seconds)
        self._compared(kind, items, answers, version, round(seconds * 1000, 3))

    def _compared(
        self, kind: str, items: list[Shadowed], answers: list[dict], version: str, latency_ms: float
    ):
        agreed = [answer["label"] == item.champion["label"] for item, answer in zip(items, answers)]
        self._results[kind, "agreed"].inc(sum(agreed))
        self._results[kind, "disagreed"].inc(len(agreed) - sum(agreed))
        champion, challenger = self._confidences[kind, "champion"], self._confidences[kind, "challenger"]
        for item, answer in zip(items, answers):
            champion.observe(item.champion["confidence"])
            challenger.observe(answer["confidence"])
        flagged = [
            outcome_row(item, answer=answer, version=version, latency_ms=latency_ms)
            for item, answer in zip(items, answers)
            if item.ticket_key is not None
        ]
        self._record(tallies(items, agreed, version=version, latency_ms=latency_ms), flagged)

    def _failed(self, kind: str, items: list[Shadowed], error: str) -> None:
        self._results[kind, "failed"].inc(len(items))
        self._health(kind, error)
        self._record_failed(items, error)

    def _record_failed(self, items: list[Shadowed], error: str) -> None:
        flagged = [outcome_row(item, error=error) for item in items if item.ticket_key is not None]
        self._record(tallies(items, None, error=error), flagged)

    def _rest(self, kind: str) -> None:
        """After a failed call, send that challenger nothing for a while, longer while it keeps failing:
        a broken challenger then costs neither calls nor its service's work."""
        if self.limits.rest <= 0:
            return
        seconds = min(MAX_REST, max(self.limits.rest, 2 * self.rest_seconds[kind]))
        self.rest_seconds[kind], self.rest_until[kind] = seconds, time.monotonic() + seconds

    def _unsent(self, kind: str, items: list[Shadowed]) -> None:
        """Tickets for a resting challenger: counted failed and stored as not sent, no call made."""
        self._results[kind, "failed"].inc(len(items))
        self._record_failed(items, RESTING)

    def _health(self, kind: str, error: str | None) -> None:
        """Log a challenger's change of state once, not once per call."""
        if self.errors[kind] == error:
            return
        name = self.backends[kind].name
        if error is None:
            log.info("%s challenger: answering again", name)
        else:
            log.warning(
                "%s challenger: no answer (%s); its tickets are counted failed until it answers", name, error
            )
        self.errors[kind] = error

    def _record(self, calls: list[dict], outcomes: list[dict]) -> None:
        if self.record is not None and calls:
            self.record(calls, outcomes)

    async def stop(self, seconds: float) -> None:
        """At shutdown, once requests are answered: at most ``seconds`` sending what is queued and
        finishing the calls in flight; the rest is dropped, counted."""
        deadline = time.monotonic() + seconds
        while (self.depth() or self.calls) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for kind, queue in self.queues.items():
            self._results[kind, "dropped"].inc(len(queue))
            queue.clear()
        for call in list(self.calls):
            call.cancel()
