"""Prometheus metrics every service exports; one registry per app so tests can run several."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONFIDENCE_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


def latency_histogram(
    name: str, documentation: str, labels: list[str], registry: CollectorRegistry
) -> Histogram:
    """A latency in seconds, on the buckets every service's dashboards share."""
    return Histogram(name, documentation, labels, buckets=LATENCY_BUCKETS, registry=registry)


def confidence_histogram(name: str, documentation: str, registry: CollectorRegistry) -> Histogram:
    """A top probability, on the buckets every service's dashboards share."""
    return Histogram(name, documentation, buckets=CONFIDENCE_BUCKETS, registry=registry)


class HttpMetrics:
    """What every service exports: requests, latency, in-flight count, which service."""

    def __init__(self, service: str):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "callcenterai_requests",
            "Requests by endpoint and status.",
            ["endpoint", "method", "status"],
            registry=r,
        )
        self.latency = latency_histogram(
            "callcenterai_request_latency_seconds",
            "Request latency by endpoint and status.",
            ["endpoint", "status"],
            r,
        )
        self.in_flight = Gauge("callcenterai_requests_in_flight", "Requests being served now.", registry=r)
        self.service_info = Info("callcenterai_service", "This service.", registry=r)
        self.service_info.info({"service": service})
