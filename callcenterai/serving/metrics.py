"""Prometheus metrics shared by the services; one registry per app so tests can run several."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONFIDENCE_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


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
        self.latency = Histogram(
            "callcenterai_request_latency_seconds",
            "Request latency by endpoint and status.",
            ["endpoint", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("callcenterai_requests_in_flight", "Requests being served now.", registry=r)
        self.service_info = Info("callcenterai_service", "This service.", registry=r)
        self.service_info.info({"service": service})


class ClassifierMetrics(HttpMetrics):
    """A classifier service's metrics: predictions, confidence, truncation, the model served."""

    def __init__(self, service: str):
        super().__init__(service)
        r = self.registry
        self.predictions = Counter("callcenterai_predictions", "Predictions by label.", ["label"], registry=r)
        self.confidence = Histogram(
            "callcenterai_prediction_confidence",
            "Top probability of each prediction.",
            buckets=CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.truncated = Counter(
            "callcenterai_truncated_texts",
            "Texts longer than the model's maximum length, of which only the beginning was read.",
            registry=r,
        )
        self.model_info = Info("callcenterai_model", "The model being served.", registry=r)
        self.reloads = Counter(
            "callcenterai_model_reloads", "Model reload attempts by result.", ["result"], registry=r
        )
        self._label_counters: dict[str, Counter] = {}

    def observe_prediction(self, label: str, confidence: float) -> None:
        counter = self._label_counters.get(label)
        if counter is None:
            counter = self._label_counters[label] = self.predictions.labels(label=label)
        counter.inc()
        self.confidence.observe(confidence)

    def set_model(self, name: str, version: str, kind: str, source: str) -> None:
        self.model_info.info({"name": name, "version": version, "kind": kind, "source": source})
