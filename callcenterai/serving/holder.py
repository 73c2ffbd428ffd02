"""The model a classifier service is serving, how it got it, and how it is replaced.

Requests read ``holder.current`` once and use that object to the end, and a
reload builds and checks the new model completely before one reference
assignment swaps it in: no request ever sees a half-loaded model.

At start the service loads ``MODEL_URI``. Only when the registry cannot be
reached does it fall back to the local copy of the last version it loaded (and
says so); a registry that answers "no" (alias gone, files changed, check
failed) leaves the service not ready with the reason. The background poll
picks up a new production version, a model for a service that has none yet,
and the registry copy once the registry is back.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import anyio
import numpy as np

from callcenterai.errors import ModelLoadError, RegistryUnavailable
from callcenterai.models.loading import LoadedModel
from callcenterai.registry.loading import is_registry_uri, load_cached, load_model, resolve
from callcenterai.serving.settings import ClassifierSettings

log = logging.getLogger(__name__)
LOADING = "model is loading"


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

    @property
    def public_warning(self) -> str | None:
        """The warning without the registry's address or error (for callers without the API key)."""
        if self.warning is None:
            return None
        return f"serving the local copy of version {self.model.version}: the registry could not be reached"


def smoke_check(model: LoadedModel, expected_labels: tuple[str, ...] | None = None) -> None:
    """Raise ReloadRefused unless ``model`` answers sanely on known tickets."""
    labels = tuple(model.predictor.labels)
    if expected_labels is not None and set(labels) != set(expected_labels):
        raise ReloadRefused(
            f"label set changed from {sorted(expected_labels)} to {sorted(labels)}; restart to accept"
        )
    known = model.card.smoke_tickets
    texts = [t.text for t in known] or ["laptop screen broken", "reset my password"]
    proba = model.predictor.predict_proba(texts)
    if proba.shape != (len(texts), len(labels)) or not np.isfinite(proba).all():
        raise ReloadRefused("model returned malformed probabilities on known tickets")
    if np.abs(proba.sum(axis=1) - 1.0).max() > 1e-6:
        raise ReloadRefused("model probabilities do not sum to 1 on known tickets")
    if known:
        predicted = [labels[i] for i in proba.argmax(axis=1)]
        right = sum(p == t.label for p, t in zip(predicted, known))
        if right < len(known) - 1:
            raise ReloadRefused(f"model classifies only {right} of {len(known)} known tickets correctly")


def freeze_long_lived() -> None:
    """Call after a model is swapped in or dropped.

    A model is hundreds of thousands of long-lived objects; freezing them keeps later
    collections from walking them. Unfreeze first, or a model just replaced would stay
    in the permanent generation and never be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelHolder:
    """``on_swap`` hears of every model swapped in; ``on_registry_check`` of every answer the
    registry gave on where MODEL_URI's alias points (registered name, version)."""

    def __init__(
        self,
        settings: ClassifierSettings,
        on_swap: Callable[[Serving], None] | None = None,
        on_registry_check: Callable[[str, str], None] | None = None,
    ):
        self.settings = settings
        self.current: Serving | None = None
        self.not_ready_reason = LOADING
        self._on_swap = on_swap or (lambda serving: None)
        self._on_registry_check = on_registry_check or (lambda name, version: None)
        self._reload_lock = threading.Lock()

    @property
    def public_reason(self) -> str:
        """Why not ready, without exception text, URIs or paths (``not_ready_reason`` has them)."""
        return LOADING if self.not_ready_reason == LOADING else "no model could be loaded"

    @property
    def unavailable(self) -> str:
        """The whole 503 answer of a prediction while nothing is served."""
        return f"not ready: {self.public_reason}"

    @property
    def from_registry(self) -> bool:
        return is_registry_uri(self.settings.model_uri)

    def _fetch(self) -> Serving:
        uri = self.settings.model_uri
        if self.from_registry:
            return Serving(
                load_model(uri, cache_dir=self.settings.cache_dir), "registry", loaded_at=time.time()
            )
        return Serving(load_model(uri), "local", loaded_at=time.time())

    def load_initial(self) -> None:
        """Load MODEL_URI; the local copy only when the registry cannot be reached."""
        try:
            serving = self._fetch()
            smoke_check(serving.model)
        except RegistryUnavailable as exc:
            serving = self._cached_fallback(exc)
        except (ModelLoadError, ReloadRefused) as exc:
            serving = None
            self.not_ready_reason = f"no model: {exc}"
        if serving is None:
            log.error("not ready: %s", self.not_ready_reason)
            return
        self._swap(serving)

    def _cached_fallback(self, exc: Exception) -> Serving | None:
        try:
            model = load_cached(self.settings.cache_dir)
            smoke_check(model)
        except (ModelLoadError, ReloadRefused) as cache_exc:
            self.not_ready_reason = f"no model: {exc}; local copy unusable: {cache_exc}"
            return None
        warning = f"registry unavailable ({exc}); serving the local copy of version {model.version}"
        log.warning(warning)
        return Serving(model, "cache", warning=warning, loaded_at=time.time())

    def _swap(self, serving: Serving) -> None:
        self.current = serving
        if serving.source == "registry":  # loaded through the alias: that is where it points now
            self._on_registry_check(serving.model.name, serving.model.version)
        freeze_long_lived()
        self._on_swap(serving)
        model = serving.model
        log.info(
            "serving %s version %s (%s, %s) from %s",
            model.name,
            model.version,
            model.predictor.kind,
            model.predictor.backend,
            serving.source,
        )

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
        """The version MODEL_URI points at now, or None (not a registry URI, or no answer)."""
        if not self.from_registry:
            return None
        try:
            version = resolve(self.settings.model_uri)[1]
        except ModelLoadError:
            return None
        self._on_registry_check(version.name, version.version)
        return version.version

    def wants_reload(self) -> bool:
        """For the poll: no model yet, a cached copy while the registry is back, or a new version."""
        current = self.current
        if current is None:
            return True
        version = self.registry_version()
        return version is not None and (current.source == "cache" or version != current.model.version)


async def check_production(holder: ModelHolder, on_result: Callable[[str], None]) -> None:
    """One poll of MODEL_URI: reload when the holder wants to; ``on_result`` gets "ok" or "refused"."""
    if not await anyio.to_thread.run_sync(holder.wants_reload):
        return
    log.info("polling %s: reloading", holder.settings.model_uri)
    try:
        await anyio.to_thread.run_sync(holder.reload)
        on_result("ok")
    except ReloadRefused as exc:
        on_result("refused")
        if holder.current is None:
            holder.not_ready_reason = f"no model: {exc}"
        log.error("background reload refused: %s", exc)


async def poll_registry(
    holder: ModelHolder,
    seconds: float,
    on_result: Callable[[str], None],
    check_challenger: Callable[[], None] = lambda: None,
) -> None:
    """Every ``seconds``, the production check, then ``check_challenger``.

    One loop asks the registry about both aliases. Production goes first, so a model the
    service lacks is served before the challenger is looked at (``check_challenger`` should
    return at once: the service's starts a thread). A check that breaks is logged and leaves
    the other check, and the next poll, to run.
    """
    while True:
        await asyncio.sleep(seconds)
        try:
            await check_production(holder, on_result)
        except Exception:
            log.exception("the production check failed; checked again on the next poll")
        try:
            check_challenger()
        except Exception:
            log.exception("the challenger check failed; checked again on the next poll")
