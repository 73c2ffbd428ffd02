"""The agent's work per request: scrub, read the ticket, ask the backends the policy needs, decide."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from callcenterai.agent.backends import Backend, BackendUnavailable
from callcenterai.agent.decisions import Outcome, Ticket, decide, needs_transformer
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.policy_holder import PolicyHolder
from callcenterai.agent.scrubbing import ScrubBudget, ScrubLane
from callcenterai.errors import NotReady
from callcenterai.pii.scrubber import Scrubbed, Scrubber
from callcenterai.routing.policy import RoutingPolicy
from callcenterai.text import NOTHING_TO_CLASSIFY, NothingToClassify, normalize_text, nothing_to_classify

log = logging.getLogger("callcenterai.agent")


class Agent:
    def __init__(
        self,
        scrubber: Scrubber,
        backends: dict[str, Backend],
        metrics: AgentMetrics,
        policy_holder: PolicyHolder,
        reviews=None,
        scrub_budget: ScrubBudget = ScrubBudget(),
        shadow=None,
        traffic=None,
    ):
        self.scrubber, self.backends, self.metrics = scrubber, backends, metrics
        self.policy_holder = policy_holder
        self.reviews = reviews  # a ReviewWriter, or None: flagged tickets are not stored
        self.shadow = shadow  # a Shadow: tickets for the backends' challengers, after the answer
        self.traffic = traffic  # a TrafficWriter, or None: answered tickets are not recorded
        self.scrub_lane = ScrubLane(scrub_budget, metrics.scrub_timeouts)

    def ticket(self, text: str, policy: RoutingPolicy, deadline: float | None = None) -> Ticket:
        started = time.perf_counter()
        scrubbed = self.scrubber.scrub(text, deadline)
        self.metrics.scrub_seconds.observe(time.perf_counter() - started)
        for entity in scrubbed.entities:
            self.metrics.pii.labels(type=entity.type).inc()
        detector = self.policy_holder.detector
        assert detector is not None
        words = len(normalize_text(scrubbed.model_text).split())
        if not words:  # the backends would refuse it: refused here, naming why, before any is asked
            raise nothing_to_classify()
        language = detector.detect(scrubbed.model_text)
        return Ticket(scrubbed, words, language, tuple(policy.ticket_reasons(words, language.english)))

    def tickets(self, texts: list[str], policy: RoutingPolicy, deadline: float | None = None) -> list[Ticket]:
        """Every ticket of a batch; NothingToClassify naming each one with no words left."""
        tickets, empty = [], []
        for position, text in enumerate(texts):
            try:
                tickets.append(self.ticket(text, policy, deadline))
            except NothingToClassify:
                empty.append(position)
        if empty:
            raise batch_refusal(empty)
        return tickets

    async def _one(self, kind: str, ticket: Ticket, request_id: str) -> Outcome:
        try:
            return Outcome(await self.backends[kind].predict(ticket.scrubbed.model_text, request_id))
        except BackendUnavailable as exc:
            return Outcome(None, exc.reason)

    async def _many(self, kind: str, tickets: list[Ticket], request_id: str) -> list[Outcome]:
        try:
            answer = await self.backends[kind].predict_batch(
                [t.scrubbed.model_text for t in tickets], request_id
            )
        except BackendUnavailable as exc:
            return [Outcome(None, exc.reason)] * len(tickets)
        return [Outcome({**p, "model": answer["model"]}) for p in answer["predictions"]]

    def _decided(
        self,
        policy: RoutingPolicy,
        ticket: Ticket,
        tfidf: Outcome,
        transformer: Outcome | None,
        reasons: list[str],
        request_id: str,
    ) -> dict:
        try:
            answer = decide(policy, ticket, tfidf, transformer, reasons)
        except LookupError:
            raise NotReady(unanswered(tfidf, transformer)) from None
        self._record(answer)
        ticket_key = None  # the review store's key, when the ticket is flagged and queued for it
        if answer["needs_review"] and self.reviews is not None:
            record = review_record(answer, ticket, tfidf, transformer)
            ticket_key = self.reviews.offer(
                {**record, "request_id": request_id, "ticket_key": uuid.uuid4().hex}
            )
        # Only queued here: the challengers and the database are no part of this request.
        if self.shadow is not None:
            self.shadow.offer(
                ticket.scrubbed.model_text, {"tfidf": tfidf, "transformer": transformer}, ticket_key
            )
        if self.traffic is not None:
            self.traffic.offer(ticket, answer)
        return answer

    def _record(self, answer: dict) -> None:
        route = answer["route"]
        for reason in route["reasons"]:
            self.metrics.routes.labels(model=route["model"], reason=reason).inc()
        if answer["needs_review"]:
            self.metrics.review_flags.labels(reason=answer["review_reason"]).inc()
        if answer["degraded"]:
            missing = "tfidf_svc" if "tfidf_unavailable" in route["reasons"] else "transformer_svc"
            self.metrics.degraded.labels(backend=missing).inc()
        self.metrics.confidence.observe(answer["confidence"])

    async def one(self, text: str, request_id: str, with_redaction: bool = False) -> dict:
        """One ticket's answer; ``with_redaction`` adds what /redact says of it (scrubbed once)."""
        policy = self.policy_holder.current()
        deadline = self.scrub_lane.deadline()
        ticket = await self.scrub_lane.run(lambda: self.ticket(text, policy, deadline), len(text), deadline)
        # Length and language are known before any model: then ask both at once.
        if ticket.reasons:
            tfidf, transformer = await asyncio.gather(
                self._one("tfidf", ticket, request_id), self._one("transformer", ticket, request_id)
            )
            reasons = needs_transformer(policy, ticket, tfidf)
        else:
            tfidf, transformer = await self._one("tfidf", ticket, request_id), None
            reasons = needs_transformer(policy, ticket, tfidf)
            if reasons:
                transformer = await self._one("transformer", ticket, request_id)
        answer = self._decided(policy, ticket, tfidf, transformer, reasons, request_id)
        if with_redaction:
            answer["redaction"] = redaction_of(ticket.scrubbed)
        return answer

    async def batch(self, texts: list[str], request_id: str, with_redaction: bool = False) -> list[dict]:
        """The tickets' answers in order; ``with_redaction`` adds to each what /redact says of it."""
        policy = self.policy_holder.current()
        deadline = self.scrub_lane.deadline(len(texts))
        chars = sum(map(len, texts))
        tickets = await self.scrub_lane.run(lambda: self.tickets(texts, policy, deadline), chars, deadline)
        tfidf = await self._many("tfidf", tickets, request_id)
        reasons = [needs_transformer(policy, t, tfidf[i]) for i, t in enumerate(tickets)]
        wanted = [i for i in range(len(tickets)) if reasons[i]]
        transformer: list[Outcome | None] = [None] * len(tickets)
        if wanted:
            answers = await self._many("transformer", [tickets[i] for i in wanted], request_id)
            for i, outcome in zip(wanted, answers):
                transformer[i] = outcome
        answers = [
            self._decided(policy, t, tfidf[i], transformer[i], reasons[i], request_id)
            for i, t in enumerate(tickets)
        ]
        if with_redaction:
            for answer, ticket in zip(answers, tickets):
                answer["redaction"] = redaction_of(ticket.scrubbed)
        return answers

    async def redact(self, text: str) -> dict:
        deadline = self.scrub_lane.deadline()
        scrubbed = await self.scrub_lane.run(lambda: self.scrubber.scrub(text, deadline), len(text), deadline)
        return redaction_of(scrubbed)


def batch_refusal(positions: list[int]) -> NothingToClassify:
    """The refusal of a batch, naming each wordless ticket in words and field by field (the error
    body's ``detail``: a caller such as the web page leaves those out and sends the rest again)."""
    refusal = nothing_to_classify(positions)
    refusal.detail = [{"field": f"texts.{i}", "problem": NOTHING_TO_CLASSIFY} for i in positions]
    return refusal


def unanswered(tfidf: Outcome, transformer: Outcome | None) -> str:
    """Why no model answered this ticket: what each call met, not what the last probe saw."""
    said = {"tfidf_svc": tfidf, "transformer_svc": transformer}
    return "no classifier available: " + "; ".join(
        f"{name}: {outcome.unavailable if outcome else 'not asked'}" for name, outcome in said.items()
    )


def redaction_of(scrubbed: Scrubbed) -> dict:
    """What /redact answers: the scrubbed text, what the models see, and where personal data was."""
    return {
        "text": scrubbed.text,
        "model_text": scrubbed.model_text,
        "entities": [{"type": e.type, "start": e.start, "end": e.end} for e in scrubbed.entities],
        "counts": scrubbed.counts,
    }


def review_record(answer: dict, ticket: Ticket, tfidf: Outcome, transformer: Outcome | None) -> dict:
    """What the review store keeps of a flagged ticket: redacted text, both models' view, the route."""
    used = {kind: o.answer for kind, o in (("tfidf", tfidf), ("transformer", transformer)) if o and o.answer}
    return {
        "text": ticket.scrubbed.text,
        "suggested_label": answer["label"],
        "confidence": answer["confidence"],
        "review_reason": answer["review_reason"],
        "route_model": answer["route"]["model"],
        "route_reasons": answer["route"]["reasons"],
        "probabilities": answer["probabilities"],
        "model_probabilities": {kind: a["probabilities"] for kind, a in used.items()},
        "model_versions": {kind: a["model"] for kind, a in used.items()},
        "redacted": answer["redacted"],
    }
