"""A classifier service's Prometheus metrics, on top of what every service exports."""

from __future__ import annotations

from prometheus_client import Counter, Info

from callcenterai.httpkit.metrics import HttpMetrics, confidence_histogram


class ClassifierMetrics(HttpMetrics):
    """A classifier service's metrics: predictions, confidence, truncation, the model served."""

    def __init__(self, service: str):
        super().__init__(service)
        r = self.registry
        self.predictions = Counter("callcenterai_predictions", "Predictions by label.", ["label"], registry=r)
        self.confidence = confidence_histogram(
            "callcenterai_prediction_confidence", "Top probability of each prediction.", r
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
