"""A classifier service's Prometheus metrics, on top of what every service exports."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Info

from callcenterai.httpkit.metrics import HttpMetrics, confidence_histogram

# Where a served model has a registered version number: the registry, or its local copy.
REGISTERED_SOURCES = ("registry", "cache")
# Why a challenger is not served, by its status: the label set differs, or it could not be loaded.
CHALLENGER_FAILURE_CAUSES = {"refused": "labels_differ", "failed": "load_failed"}


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
        # Labelled, so that neither exists before it is set: an unlabelled gauge would say 0
        # from the start, and the served-version alert would compare a version with that 0.
        self.served_version = Gauge(
            "callcenterai_model_served_version",
            "The registered version of the model being served (not set for a model from a folder).",
            ["name"],
            registry=r,
        )
        self.registry_version = Gauge(
            "callcenterai_model_registry_version",
            "The version MODEL_URI's alias pointed at on the last registry check that was answered.",
            ["name"],
            registry=r,
        )
        self.challenger_loaded = Gauge(
            "callcenterai_challenger_loaded",
            "1 while a challenger is served beside the champion.",
            ["name"],
            registry=r,
        )
        self.challenger_version = Gauge(
            "callcenterai_challenger_version",
            "The registered version served as challenger (0 when none is).",
            ["name"],
            registry=r,
        )
        self.challenger_load_failures = Counter(
            "callcenterai_challenger_load_failures",
            "Challenger versions not served, by cause: labels_differ (refused) or load_failed.",
            ["name", "cause"],
            registry=r,
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
        if source in REGISTERED_SOURCES:
            self.served_version.labels(name=name).set(int(version))

    def set_registry_version(self, name: str, version: str) -> None:
        self.registry_version.labels(name=name).set(int(version))

    def set_challenger(self, name: str, version: str | None) -> None:
        """The challenger served now (None: none); a version that is not a number (a folder) reads 0."""
        self.challenger_loaded.labels(name=name).set(0 if version is None else 1)
        self.challenger_version.labels(name=name).set(int(version) if version and version.isdigit() else 0)
        for cause in CHALLENGER_FAILURE_CAUSES.values():  # both series from the start: rate() needs a 0
            self.challenger_load_failures.labels(name=name, cause=cause)

    def count_challenger_failure(self, name: str, status: str) -> None:
        self.challenger_load_failures.labels(name=name, cause=CHALLENGER_FAILURE_CAUSES[status]).inc()
