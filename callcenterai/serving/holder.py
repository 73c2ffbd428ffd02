"""The model a service is serving, how it got it, and how it is replaced.

Requests read ``holder.current`` once and use that object to the end, and a
reload builds and checks the new model completely before one reference
assignment swaps it in: no request ever sees a half-loaded model.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from callcenterai.models.store import LoadedModel, ModelLoadError, is_registry_uri, load_model, load_model_dir
from callcenterai.serving.settings import ServiceSettings

log = logging.getLogger(__name__)


class ReloadRefused(RuntimeError):
    """A reload that was not done; the old model keeps serving. The message says why."""


@dataclass(frozen=True)
class Serving:
    """A loaded model with where it came from: swapped as one object."""

    model: LoadedModel
    source: str  # "registry", "cache" or "local"
    warning: str | None = None
    loaded_at: float = 0.0

    @property
    def ref(self) -> dict:
        return {"name": self.model.name, "version": self.model.version, "kind": self.model.predictor.kind}


def smoke_check(model: LoadedModel, expected_labels: tuple[str, ...] | None = None) -> None:
    """Raise ReloadRefused unless ``model`` answers sanely on known tickets."""
    labels = tuple(model.predictor.labels)
    if expected_labels is not None and set(labels) != set(expected_labels):
        raise ReloadRefused(
            f"label set changed from {sorted(expected_labels)} to {sorted(labels)}; restart to accept"
        )
    known = model.card.get("smoke_tickets") or []
    texts = [t["text"] for t in known] or ["laptop screen broken", "reset my password"]
    proba = model.predictor.predict_proba(texts)
    if proba.shape != (len(texts), len(labels)) or not np.isfinite(proba).all():
        raise ReloadRefused("model returned malformed probabilities on known tickets")
    if np.abs(proba.sum(axis=1) - 1.0).max() > 1e-6:
        raise ReloadRefused("model probabilities do not sum to 1 on known tickets")
    if known:
        predicted = [labels[i] for i in proba.argmax(axis=1)]
        right = sum(p == t["label"] for p, t in zip(predicted, known))
        if right < len(known) - 1:
            raise ReloadRefused(f"model classifies only {right} of {len(known)} known tickets correctly")


class ModelHolder:
    def __init__(self, settings: ServiceSettings, on_swap: Callable[[Serving], None] | None = None):
        self.settings = settings
        self.current: Serving | None = None
        self.not_ready_reason = "model is loading"
        self._on_swap = on_swap or (lambda serving: None)
        self._reload_lock = threading.Lock()

    # ------------------------------------------------------------------ start
    def _fetch(self) -> Serving:
        uri = self.settings.model_uri
        if is_registry_uri(uri):
            model = load_model(uri, cache_dir=self.settings.cache_dir)
            return Serving(model, "registry", loaded_at=time.time())
        return Serving(load_model(uri), "local", loaded_at=time.time())

    def load_initial(self) -> None:
        """Load MODEL_URI; if the registry cannot be reached, serve the last local copy and say so."""
        try:
            serving = self._fetch()
            smoke_check(serving.model)
        except (ModelLoadError, ReloadRefused) as exc:
            cache = self.settings.cache_dir
            if not is_registry_uri(self.settings.model_uri) or not (cache / "model_card.json").is_file():
                self.not_ready_reason = f"no model: {exc}"
                log.error("not ready: %s", self.not_ready_reason)
                return
            try:
                model = load_model_dir(cache)
            except ModelLoadError as cache_exc:
                self.not_ready_reason = f"no model: {exc}; local copy unusable: {cache_exc}"
                log.error("not ready: %s", self.not_ready_reason)
                return
            warning = f"registry unavailable ({exc}); serving the local copy of version {model.version}"
            serving = Serving(model, "cache", warning=warning, loaded_at=time.time())
            log.warning(warning)
        self._swap(serving)

    def _swap(self, serving: Serving) -> None:
        self.current = serving
        # A model is hundreds of thousands of long-lived objects (the vocabulary);
        # freezing them keeps every later garbage collection from walking them.
        gc.collect()
        gc.freeze()
        self._on_swap(serving)
        log.info(
            "serving %s version %s (%s, %s) from %s",
            serving.model.name,
            serving.model.version,
            serving.model.predictor.kind,
            serving.model.predictor.backend,
            serving.source,
        )

    # ----------------------------------------------------------------- reload
    def reload(self) -> tuple[Serving, Serving | None]:
        """Load MODEL_URI afresh, check it, swap it in; returns (new, previous)."""
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadRefused("a reload is already running")
        try:
            previous = self.current
            try:
                candidate = self._fetch()
            except ModelLoadError as exc:
                raise ReloadRefused(f"could not load {self.settings.model_uri}: {exc}") from None
            expected = tuple(previous.model.predictor.labels) if previous else None
            smoke_check(candidate.model, expected)
            self._swap(candidate)
            return candidate, previous
        finally:
            self._reload_lock.release()

    def registry_version(self) -> str | None:
        """The version MODEL_URI points at now (for the background poll), or None."""
        from callcenterai.registry import RegistryError, resolve_models_uri

        if not self.settings.model_uri.startswith("models:/"):
            return None
        try:
            return resolve_models_uri(self.settings.model_uri)[1].version
        except RegistryError:
            return None
