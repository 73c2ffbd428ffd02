"""The routing policy the agent uses: read from its source, swapped on reload, checked against the backends.

The policy is fitted for particular model files; each backend's model card says
which files it serves, so whether the two match is known here, and said in
/ready, /model and a metric. A registry source is followed: when the backends
start serving other models, the policy fitted for those is swapped in.
"""

from __future__ import annotations

import asyncio
import logging

import anyio

from callcenterai.agent.backends import Backend, none_left, refresh_cards
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.policy_source import PolicySource
from callcenterai.errors import NotReady
from callcenterai.routing.language import LanguageDetector
from callcenterai.routing.policy import PolicyError, RoutingPolicy, fingerprint_of

log = logging.getLogger(__name__)


class PolicyHolder:
    def __init__(self, source: PolicySource, backends: dict[str, Backend], metrics: AgentMetrics):
        self.source, self.backends, self.metrics = source, backends, metrics
        self.policy: RoutingPolicy | None = None
        self.detector: LanguageDetector | None = None
        self.error: str | None = "not loaded yet"  # why there is no policy

    def served(self) -> dict[str, str]:
        """Per backend whose model card is known: the fingerprint of the files it serves."""
        return {
            kind: fingerprint_of(b.state.card.get("file_sha256", {}))
            for kind, b in self.backends.items()
            if b.state.card is not None
        }

    def load(self, exact: bool = False) -> tuple[RoutingPolicy, RoutingPolicy | None]:
        """Read and swap in the policy; raises PolicyError and keeps the old one."""
        served = self.served() if self.source.follows_models else {}
        policy, previous = self.source.read(served, exact), self.policy
        rule = policy.language
        detector = LanguageDetector(tuple(rule.languages), rule.min_probability, rule.min_words)
        self.policy, self.detector, self.error = policy, detector, None
        self.metrics.policy_info.info({"fitted_at": policy.fitted_at, "path": self.source.where})
        self.metrics.expected_review_rate.set(policy.expected.review_rate)
        self.metrics.expected_transformer_rate.set(policy.expected.transformer_call_rate)
        return policy, previous

    async def follow(self) -> bool:
        """Swap in the policy fitted for what the backends serve now, when the source has one
        and the current policy is not it; returns whether it swapped."""
        matches = self.matches()
        if not self.source.follows_models:
            return False
        if self.policy is not None and (None in matches.values() or all(matches.values())):
            return False  # nothing to follow, or not yet known what the backends serve
        try:
            policy, _ = await anyio.to_thread.run_sync(self.load, self.policy is not None)
        except PolicyError as exc:
            if self.policy is None:
                self.error = str(exc)
            return False
        log.info("routing policy fitted at %s swapped in for the models now served", policy.fitted_at)
        return True

    def current(self) -> RoutingPolicy:
        """The policy to route a request by; NotReady (with why) while there is none."""
        if self.policy is None:
            raise NotReady(f"not ready: no routing policy: {self.error}")
        return self.policy

    async def load_at_start(self) -> None:
        """The first load: a bad file leaves the agent not ready, saying why; a reload tries again."""
        try:
            await anyio.to_thread.run_sync(self.load)
        except PolicyError as exc:
            self.error = str(exc)

    def in_use(self) -> str:
        """Which policy stays when a reload is refused."""
        return f"using the policy fitted at {self.policy.fitted_at if self.policy else 'none'}"

    async def recheck(self, policy: RoutingPolicy, previous: RoutingPolicy | None) -> dict:
        """After a reload: fetch both backends' model cards again and say how the policy matches them."""
        await refresh_cards(self.backends.values())
        return {
            "reloaded": True,
            "fitted_at": policy.fitted_at,
            "previous_fitted_at": previous.fitted_at if previous else None,
            "policy_matches": self.matches(),
            "warnings": self.warnings(),
        }

    def matches(self) -> dict[str, bool | None]:
        """Per backend: whether it serves the model the policy was fitted for (None: unknown)."""
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

    def warnings(self, detailed: bool = True) -> list[str]:
        """What is wrong though the agent answers; ``detailed``: with each backend's error."""
        found = [
            f"the routing policy was fitted for another {kind} model than {self.backends[kind].name} serves"
            for kind, ok in self.matches().items()
            if ok is False
        ]
        found += [
            f"{b.name} unavailable" + (f": {b.state.reason}" if detailed else "")
            for b in self.backends.values()
            if not b.usable
        ]
        return found

    def readiness(self, detailed: bool = False) -> tuple[bool, dict]:
        """/ready: ``detailed`` (the API key sent) adds URLs, errors and the policy file's problem."""
        usable = [b.name for b in self.backends.values() if b.usable]
        body = {"backends": {b.name: b.describe(detailed) for b in self.backends.values()}}
        warnings = self.warnings(detailed)
        if warnings:
            body["warning"] = "; ".join(warnings)
        if self.policy is None:
            reason = f"no routing policy: {self.error}" if detailed else "no routing policy"
            return False, {**body, "reason": reason}
        if not usable:
            reason = none_left(self.backends.values()) if detailed else "no classifier available"
            return False, {**body, "reason": reason}
        return True, body

    def describe(self, detailed: bool = False) -> dict:
        """GET /model: the policy and both backends with their model cards; ``detailed`` adds
        where the policy file is, the backends' URLs and their errors."""
        described = {
            "policy": self.policy.model_dump(mode="json") if self.policy else None,
            "policy_matches": self.matches(),
            "backends": {
                kind: {**b.describe(detailed), "card": b.state.card} for kind, b in self.backends.items()
            },
            "warnings": self.warnings(detailed),
        }
        if detailed:
            described["policy_source"] = self.source.where
        return described


async def follow_forever(holder: PolicyHolder, every: float) -> None:
    """Keep a registry policy in step with the models the backends serve."""
    while True:
        await asyncio.sleep(every)
        await holder.follow()
