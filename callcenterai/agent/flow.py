"""The agent's work per request: scrub, read the ticket, ask the backends the policy needs, decide."""

from __future__ import annotations

import asyncio
import logging
import time

import anyio
from fastapi import HTTPException

from callcenterai.agent.backends import Backend, BackendUnavailable
from callcenterai.agent.decisions import Outcome, Ticket, decide, needs_transformer
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.pii.scrubber import Scrubber
from callcenterai.routing.language import LanguageDetector
from callcenterai.routing.policy import RoutingPolicy, fingerprint_of, read_policy
from callcenterai.text import normalize_text

log = logging.getLogger("callcenterai.agent")


class Agent:
    def __init__(
        self,
        scrubber: Scrubber,
        backends: dict[str, Backend],
        metrics: AgentMetrics,
        policy_path,
        reviews=None,
    ):
        self.scrubber, self.backends, self.metrics = scrubber, backends, metrics
        self.reviews = reviews  # a ReviewWriter, or None: flagged tickets are not stored
        self.policy_path = policy_path
        self.policy: RoutingPolicy | None = None
        self.detector: LanguageDetector | None = None
        self.policy_error: str | None = "not loaded yet"

    def load_policy(self) -> tuple[RoutingPolicy, RoutingPolicy | None]:
        """Read and swap in the policy file; raises PolicyError and keeps the old one."""
        policy = read_policy(self.policy_path)
        rule = policy.language
        detector = LanguageDetector(tuple(rule.languages), rule.min_probability, rule.min_words)
        previous = self.policy
        self.policy, self.detector, self.policy_error = policy, detector, None
        self.metrics.policy_info.info({"fitted_at": policy.fitted_at, "path": str(self.policy_path)})
        return policy, previous

    def policy_matches(self) -> dict[str, bool | None]:
        matches: dict[str, bool | None] = {}
        for kind, backend in self.backends.items():
            card = backend.state.card
            if self.policy is None or card is None:
                matches[kind] = None
                continue
            fitted = self.policy.fitted_for.get(kind)
            matches[kind] = fitted is not None and fitted.fingerprint == fingerprint_of(
                card.get("file_sha256", {})
            )
            self.metrics.policy_mismatch.labels(backend=backend.name).set(0 if matches[kind] else 1)
        return matches

    def warnings(self) -> list[str]:
        found = [
            f"the routing policy was fitted for another {kind} model than {self.backends[kind].name} serves"
            for kind, ok in self.policy_matches().items()
            if ok is False
        ]
        found += [f"{b.name} unavailable: {b.state.reason}" for b in self.backends.values() if not b.usable]
        return found

    def readiness(self) -> tuple[bool, dict]:
        usable = [b.name for b in self.backends.values() if b.usable]
        body = {"backends": {b.name: b.describe() for b in self.backends.values()}}
        warnings = self.warnings()
        if warnings:
            body["warning"] = "; ".join(warnings)
        if self.policy is None:
            return False, {**body, "reason": f"no routing policy: {self.policy_error}"}
        if not usable:
            return False, {**body, "reason": self._none_left()}
        return True, body

    def _none_left(self) -> str:
        return "no classifier available: " + "; ".join(
            f"{b.name}: {b.state.reason or 'not ready'}" for b in self.backends.values()
        )

    def _policy_now(self) -> RoutingPolicy:
        if self.policy is None:
            raise HTTPException(503, f"not ready: no routing policy: {self.policy_error}")
        return self.policy

    def ticket(self, text: str) -> Ticket:
        started = time.perf_counter()
        scrubbed = self.scrubber.scrub(text)
        self.metrics.scrub_seconds.observe(time.perf_counter() - started)
        for entity in scrubbed.entities:
            self.metrics.pii.labels(type=entity.type).inc()
        assert self.detector is not None
        words = len(normalize_text(scrubbed.model_text).split())
        return Ticket(scrubbed, words, self.detector.detect(scrubbed.model_text))

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
        request_id: str,
    ) -> dict:
        try:
            answer = decide(policy, ticket, tfidf, transformer)
        except LookupError:
            raise HTTPException(503, self._none_left()) from None
        self._record(answer)
        if answer["needs_review"] and self.reviews is not None:
            self.reviews.offer(
                {**review_record(answer, ticket, tfidf, transformer), "request_id": request_id}
            )
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

    async def one(self, text: str, request_id: str) -> dict:
        policy = self._policy_now()
        ticket = self.ticket(text)
        # Length and language are known before any model: then ask both at once.
        if policy.transformer_reasons(1.0, ticket.words, ticket.language.english):
            tfidf, transformer = await asyncio.gather(
                self._one("tfidf", ticket, request_id), self._one("transformer", ticket, request_id)
            )
        else:
            tfidf, transformer = await self._one("tfidf", ticket, request_id), None
            if needs_transformer(policy, ticket, tfidf):
                transformer = await self._one("transformer", ticket, request_id)
        return self._decided(policy, ticket, tfidf, transformer, request_id)

    async def batch(self, texts: list[str], request_id: str) -> list[dict]:
        policy = self._policy_now()
        # Scrubbing a long batch full of numbers takes milliseconds per ticket: off the event loop.
        tickets = await anyio.to_thread.run_sync(lambda: [self.ticket(t) for t in texts])
        tfidf = await self._many("tfidf", tickets, request_id)
        wanted = [i for i, t in enumerate(tickets) if needs_transformer(policy, t, tfidf[i])]
        transformer: list[Outcome | None] = [None] * len(tickets)
        if wanted:
            answers = await self._many("transformer", [tickets[i] for i in wanted], request_id)
            for i, outcome in zip(wanted, answers):
                transformer[i] = outcome
        return [self._decided(policy, t, tfidf[i], transformer[i], request_id) for i, t in enumerate(tickets)]

    def redact(self, text: str) -> dict:
        scrubbed = self.scrubber.scrub(text)
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
