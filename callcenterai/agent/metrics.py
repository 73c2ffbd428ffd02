"""The agent's Prometheus metrics, on top of what every service exports."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

from callcenterai.httpkit.metrics import (
    CONFIDENCE_BUCKETS,
    HttpMetrics,
    confidence_histogram,
    latency_histogram,
)


class AgentMetrics(HttpMetrics):
    def __init__(self, service: str = "agent"):
        super().__init__(service)
        r = self.registry
        self.routes = Counter(
            "callcenterai_agent_routes",
            "Tickets by the model that answered and why.",
            ["model", "reason"],
            registry=r,
        )
        self.review_flags = Counter(
            "callcenterai_agent_review_flags",
            "Tickets flagged for review, by reason.",
            ["reason"],
            registry=r,
        )
        self.pii = Counter(
            "callcenterai_agent_pii_entities",
            "Personal data found and removed, by type.",
            ["type"],
            registry=r,
        )
        self.degraded = Counter(
            "callcenterai_agent_degraded",
            "Tickets answered without a backend they needed.",
            ["backend"],
            registry=r,
        )
        self._backend_metrics()
        self.confidence = confidence_histogram(
            "callcenterai_agent_confidence", "Final confidence of each answer.", r
        )
        self._policy_metrics()
        self.review_store = Counter(
            "callcenterai_agent_review_store",
            "Flagged tickets for the review store: written, error (tickets in write attempts that failed), "
            "dropped (queue or spool full), duplicate (the same text within the window), rate_limited "
            "(over the new tickets per window).",
            ["result"],
            registry=r,
        )
        self.review_spool_depth = Gauge(
            "callcenterai_agent_review_spool_depth",
            "Flagged tickets on disk waiting for the review store.",
            registry=r,
        )
        self.review_spool_oldest = Gauge(
            "callcenterai_agent_review_spool_oldest_seconds",
            "How long the oldest ticket in the spool has waited; 0 when it is empty.",
            registry=r,
        )
        self._scrub_metrics()
        self._shadow_metrics()

    def _shadow_metrics(self) -> None:
        r = self.registry
        self.shadow_tickets = Counter(
            "callcenterai_shadow_tickets",
            "Tickets offered to a backend's challenger: agreed or disagreed with the champion, failed "
            "(no answer), dropped (the queue was full).",
            ["backend", "result"],
            registry=r,
        )
        self.shadow_latency = latency_histogram(
            "callcenterai_shadow_latency_seconds",
            "Challenger call latency (one batch), answered calls.",
            ["backend"],
            r,
        )
        self.shadow_confidence = Histogram(
            "callcenterai_shadow_confidence",
            "Top probability of champion and challenger on the tickets both answered.",
            ["backend", "model"],
            buckets=CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.shadow_queue_depth = Gauge(
            "callcenterai_shadow_queue_depth", "Tickets waiting to be sent to a challenger.", registry=r
        )
        self.traffic_samples = Counter(
            "callcenterai_traffic_samples",
            "Answered tickets recorded for the drift checks: written, dropped (queue full), failed "
            "(the database refused the write).",
            ["result"],
            registry=r,
        )

    def _scrub_metrics(self) -> None:
        r = self.registry
        self.scrub_seconds = Histogram(
            "callcenterai_agent_scrub_seconds",
            "Time to scrub one ticket.",
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
            registry=r,
        )
        self.scrub_timeouts = Counter(
            "callcenterai_agent_scrub_timeouts",
            "Requests answered 503 because scrubbing them ran past SCRUB_BUDGET_SECONDS.",
            registry=r,
        )

    def _policy_metrics(self) -> None:
        r = self.registry
        self.policy_info = Info("callcenterai_agent_policy", "The routing policy in use.", registry=r)
        # What the policy expects, beside what the agent measures (the review-rate alert compares them).
        self.expected_review_rate = Gauge(
            "callcenterai_agent_policy_expected_review_rate",
            "Share of tickets the routing policy in use expects to flag for review.",
            registry=r,
        )
        self.expected_transformer_rate = Gauge(
            "callcenterai_agent_policy_expected_transformer_rate",
            "Share of tickets the routing policy in use expects to send to the transformer.",
            registry=r,
        )
        self.reloads = Counter(
            "callcenterai_agent_policy_reloads", "Policy reloads by result.", ["result"], registry=r
        )

    def _backend_metrics(self) -> None:
        r = self.registry
        self.backend_errors = Counter(
            "callcenterai_agent_backend_errors",
            "Backend calls that failed, by backend and error.",
            ["backend", "error"],
            registry=r,
        )
        self.backend_latency = latency_histogram(
            "callcenterai_agent_backend_latency_seconds",
            "Backend call latency, successful calls.",
            ["backend", "endpoint"],
            r,
        )
        self.circuit_open = Gauge(
            "callcenterai_agent_circuit_open", "1 while a backend is being skipped.", ["backend"], registry=r
        )
        self.policy_mismatch = Gauge(
            "callcenterai_agent_policy_mismatch",
            "1 when the policy was fitted for another model than the backend serves.",
            ["backend"],
            registry=r,
        )
