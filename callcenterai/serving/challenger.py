"""The challenger: a second model served beside the champion, for the agent to shadow tickets to.

It comes by the champion's road (``registry.loading.load_model``: the registry URI
resolved, the files compared with their registered digest, nothing unpickled),
only once the champion serves and in a thread of its own, so /ready never waits
for it. Each check (after every champion swap, and on each registry poll) asks
where CHALLENGER_URI points now. No version with the alias is the normal state
"none". A new version is loaded and its label set compared with the champion's:
one that differs is refused, one that cannot be loaded has failed; either way
the champion serves as before. A version refused or failed is tried again only
when it or the champion's label set changes: a registered version's files do not.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Sequence

from callcenterai.errors import ModelLoadError, RegistryUnavailable, UserError
from callcenterai.kinds import kind_named, kind_registered_as
from callcenterai.models.loading import LoadedModel
from callcenterai.registry.challenger import labels_only_on_each_side
from callcenterai.registry.loading import is_registry_uri, load_model
from callcenterai.registry.store import RegisteredModel, is_unreachable, parse_models_uri
from callcenterai.serving.holder import ModelHolder, ReloadRefused, Serving, freeze_long_lived, smoke_check
from callcenterai.serving.metrics import CHALLENGER_FAILURE_CAUSES, ClassifierMetrics
from callcenterai.serving.settings import ClassifierSettings

log = logging.getLogger(__name__)
SERVING, REFUSED, FAILED, NONE = "serving", "refused", "failed", "none"
LOCAL = "local"  # the version of a challenger read from a folder


@dataclass(frozen=True)
class ChallengerState:
    """What the challenger is now, replaced as one object (requests read it once)."""

    status: str  # serving, refused, failed or none
    version: str | None = None
    reason: str | None = None  # in full: exception text, registry address (for API-key holders)
    public_reason: str | None = None  # the same without addresses, paths or exception text
    serving: Serving | None = None
    # (version or None, the champion's label set) this state is the answer for: None, ask again.
    checked: tuple | None = None

    def card(self, detailed: bool) -> dict:
        """/model's ``challenger``."""
        reason = self.reason if detailed else self.public_reason
        return {"status": self.status, "version": self.version, "reason": reason}


def label_difference(champion: Sequence[str], challenger: Sequence[str]) -> str | None:
    """The labels the challenger lacks and adds, in words; None when the sets are equal."""
    missing, extra = labels_only_on_each_side(champion, challenger)
    parts = [
        f"{what} {', '.join(labels)}" for what, labels in (("missing", missing), ("extra", extra)) if labels
    ]
    return f"its labels differ from the champion's: {'; '.join(parts)}" if parts else None


def pointed_version(uri: str) -> str | None:
    """The version ``models:/NAME@ALIAS`` (or ``/N``) names now; None when no version has the alias."""
    name, alias, number = parse_models_uri(uri)
    try:
        model = RegisteredModel(kind_registered_as(name))
        found = model.alias_version(alias) if alias else model.version(number)
    except UserError as exc:
        error = RegistryUnavailable if is_unreachable(exc) else ModelLoadError
        raise error(f"{uri}: {exc}") from None
    return None if found is None else found.version


class ChallengerHolder:
    """The challenger of one classifier service: ``current`` and ``unavailable`` as Answers reads them."""

    def __init__(self, settings: ClassifierSettings, champion: ModelHolder, metrics: ClassifierMetrics):
        self.uri = settings.challenger_uri
        self.cache_dir = settings.challenger_cache_dir
        self.champion, self.metrics = champion, metrics
        from_registry = self.uri is not None and is_registry_uri(self.uri)
        named = (
            parse_models_uri(self.uri) if from_registry else (kind_named(settings.kind).registered_name, None)
        )
        self.name, self.alias = named[0], named[1]
        waiting = "CHALLENGER_URI is none" if self.uri is None else "not checked yet: the champion is loading"
        self.state = ChallengerState(NONE, reason=waiting, public_reason=waiting)
        self._check_lock = threading.Lock()
        metrics.set_challenger(self.name, None)

    @property
    def current(self) -> Serving | None:
        return self.state.serving

    @property
    def unavailable(self) -> str:
        return f"no challenger is serving (status {self.state.status}: {self.state.public_reason})"

    @property
    def ref(self) -> dict | None:
        """/ready's ``challenger``: what the agent shadows tickets to, or None."""
        serving = self.state.serving
        return None if serving is None else {"name": serving.model.name, "version": serving.model.version}

    def refresh_soon(self, unless_running: bool = False) -> None:
        """Check in a thread of its own: the caller (a champion swap, the registry poll) never
        waits for a download. ``unless_running`` (the poll): no check when one is running, it
        is answering the same question; the next poll asks again."""
        if unless_running and self._check_lock.locked():
            return
        threading.Thread(
            target=self.refresh, args=(unless_running,), name="challenger-check", daemon=True
        ).start()

    def refresh(self, unless_running: bool = False) -> ChallengerState:
        """Check where CHALLENGER_URI points and act on it; one check at a time, each reading
        the champion afresh."""
        if not self._check_lock.acquire(blocking=not unless_running):
            return self.state
        try:
            state = self._checked_state()
            if state is not self.state:
                self._set(state)
            return self.state
        finally:
            self._check_lock.release()

    def _checked_state(self) -> ChallengerState:
        champion = self.champion.current
        if self.uri is None or champion is None:
            return self.state
        labels = tuple(sorted(champion.model.predictor.labels))
        try:
            version = pointed_version(self.uri) if is_registry_uri(self.uri) else LOCAL
        except RegistryUnavailable as exc:
            log.warning("challenger not checked, kept as it is: %s", exc)
            return self._unreachable(str(exc))
        except ModelLoadError as exc:  # an answer, not an outage: counted once, not on every poll
            checked = (f"unresolved: {exc}", labels)
            same = checked == self.state.checked
            return (
                self.state if same else self._failed(None, checked, f"{self.uri} names no challenger: {exc}")
            )
        if (version, labels) == self.state.checked:
            return self.state
        if version is None:
            reason = f"no version of {self.name} has the alias '{self.alias}'"
            return ChallengerState(NONE, reason=reason, public_reason=reason, checked=(None, labels))
        return self._loaded(version, champion.model, (version, labels))

    def _unreachable(self, error: str) -> ChallengerState:
        """A challenger serving, refused or failed stays so; "none" says why it is not known yet."""
        reason = f"the registry could not be reached ({error}); checked again on the next poll"
        if self.state.status != NONE or self.state.reason == reason:
            return self.state
        return ChallengerState(NONE, reason=reason, public_reason="the registry could not be reached")

    def _loaded(self, version: str, champion: LoadedModel, checked: tuple) -> ChallengerState:
        source = self.uri if version == LOCAL else f"models:/{self.name}/{version}"
        try:
            model = load_model(source, cache_dir=self.cache_dir)
        except RegistryUnavailable as exc:
            log.warning("challenger version %s not loaded, tried again on the next check: %s", version, exc)
            return self.state
        except Exception as exc:  # whatever breaks the challenger must leave the champion's service alone
            return self._failed(version, checked, f"version {version} could not be loaded: {exc}")
        return self._checked_model(model, version, champion, checked)

    def _checked_model(
        self, model: LoadedModel, version: str, champion: LoadedModel, checked: tuple
    ) -> ChallengerState:
        differ = label_difference(champion.predictor.labels, model.predictor.labels)
        if differ is not None:
            reason = f"version {version} refused: {differ}"
            return ChallengerState(REFUSED, version, reason, reason, checked=checked)
        if model.predictor.kind != champion.predictor.kind:  # scored where the champion's kind is
            reason = f"a {model.predictor.kind} model beside a {champion.predictor.kind} champion"
            return self._failed(version, checked, f"version {version} is {reason}")
        try:
            smoke_check(model)
        except ReloadRefused as exc:
            return self._failed(
                version, checked, f"version {version} failed its check on known tickets: {exc}"
            )
        source = "local" if version == LOCAL else "registry"
        return ChallengerState(
            SERVING, version, serving=Serving(model, source, loaded_at=time.time()), checked=checked
        )

    @staticmethod
    def _failed(version: str | None, checked: tuple, reason: str) -> ChallengerState:
        public = f"version {version} could not be loaded" if version else "CHALLENGER_URI names no challenger"
        return ChallengerState(FAILED, version, reason, public, checked=checked)

    def _set(self, state: ChallengerState) -> None:
        dropped = self.state.serving is not None
        self.state = state
        self.metrics.set_challenger(self.name, state.version if state.serving is not None else None)
        if state.status in CHALLENGER_FAILURE_CAUSES:
            self.metrics.count_challenger_failure(self.name, state.status)
        if dropped or state.serving is not None:
            freeze_long_lived()
        if state.status == SERVING:
            log.info("challenger: serving %s version %s beside the champion", self.name, state.version)
        elif state.status == NONE:
            log.info("challenger: none (%s)", state.reason)
        else:
            log.error("challenger %s: %s; the champion serves as before", state.status, state.reason)
