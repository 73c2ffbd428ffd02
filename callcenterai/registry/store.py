"""Reading one registered model in an MLflow store, and the low-level writes promotion uses.

Aliases (``staging``, ``production``) are the source of truth, as MLflow 3
recommends; the legacy stage field is kept in step (None -> Staging ->
Production -> Archived) so the MLflow UI and older clients agree. The alias
``challenger`` names the version the services shadow beside production; it has
no stage of its own. Every
transition is recorded as a version tag ``transition.<microseconds>`` so the
history lives in the store itself.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from callcenterai.errors import UserError
from callcenterai.kinds import ModelKind, kind_named, kind_registered_as
from callcenterai.model_card import utc_now
from callcenterai.tracking import tracking_uri

STAGING, PRODUCTION = "staging", "production"
CHALLENGER = "challenger"
STAGE_OF_ALIAS = {STAGING: "Staging", PRODUCTION: "Production"}
TRANSITION_PREFIX = "transition."
# Fail fast when a server is down instead of MLflow's minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
_UNREACHABLE_WORDS = ("Max retries", "Connection", "connect", "unable to open database", "timed out")


class RegistryError(UserError):
    """A registry request that cannot be carried out; the registry is unchanged."""


class StoreUnreachable(RegistryError):
    """The MLflow store did not answer (as opposed to answering no)."""


def is_unreachable(exc: BaseException) -> bool:
    return isinstance(exc, (StoreUnreachable, ConnectionError)) or any(
        word in str(exc) for word in _UNREACHABLE_WORDS
    )


def reachable(call: Callable[[], Any], uri: str) -> Any:
    """Run a store call, turning connection failures into one clear line."""
    from mlflow.exceptions import MlflowException

    try:
        return call()
    except (MlflowException, OSError) as exc:
        if is_unreachable(exc):
            raise StoreUnreachable(
                f"cannot reach the MLflow store at {uri}; start it (python scripts/mlflow_server.py) "
                "or set MLFLOW_TRACKING_URI"
            ) from None
        raise


@dataclass(frozen=True)
class Version:
    """A registered model version as this package uses it (numbers as strings)."""

    name: str
    version: str
    aliases: tuple[str, ...]
    current_stage: str
    run_id: str
    tags: dict
    creation_timestamp: int
    source: str

    def metrics(self) -> dict[str, float]:
        """The test metrics tagged at registration."""
        found = {}
        for key, value in self.tags.items():
            if key.startswith("test_"):
                try:
                    found[key] = float(value)
                except ValueError:
                    continue
        return found


@dataclass(frozen=True)
class Transition:
    at: str
    version: str
    source: str
    target: str
    who: str
    reason: str
    seq: int = 0  # microseconds since the epoch, from the tag key: orders same-second events
    action: str = ""  # "rollback" for a rollback's move to production; rollbacks walk past these

    def as_tag_value(self) -> str:
        values = {
            "at": self.at,
            "from": self.source,
            "to": self.target,
            "who": self.who,
            "reason": self.reason,
        }
        return json.dumps({**values, "action": self.action} if self.action else values)


def _who() -> str:
    return os.environ.get("CALLCENTERAI_USER") or os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def _as_version(name: str, found, aliases: dict[str, list[str]]) -> Version:
    return Version(
        name=name,
        version=str(found.version),
        aliases=tuple(sorted(aliases.get(str(found.version), []))),
        current_stage=found.current_stage or "None",
        run_id=found.run_id or "",
        tags=dict(found.tags or {}),
        creation_timestamp=int(found.creation_timestamp or 0),
        source=found.source or "",
    )


class RegisteredModel:
    """One registered model (``tfidf`` or ``transformer``) in one MLflow store."""

    def __init__(self, kind: str | ModelKind, uri: str | None = None):
        from mlflow import MlflowClient

        try:
            self.model_kind = kind if isinstance(kind, ModelKind) else kind_named(kind)
        except UserError as exc:
            raise RegistryError(str(exc)) from None
        self.kind = self.model_kind.name
        self.name = self.model_kind.registered_name
        self.uri = uri or tracking_uri()
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def _call(self, fn: Callable[[], Any]) -> Any:
        return reachable(fn, self.uri)

    def versions(self) -> list[Version]:
        from mlflow.exceptions import MlflowException

        def search():
            try:
                model = self.client.get_registered_model(self.name)
            except MlflowException as exc:
                if "RESOURCE_DOES_NOT_EXIST" in str(exc.error_code):
                    return []
                raise
            # search_model_versions leaves aliases empty; the registered model has them.
            aliases: dict[str, list[str]] = {}
            for alias, number in (model.aliases or {}).items():
                aliases.setdefault(str(number), []).append(alias)
            found = self.client.search_model_versions(f"name='{self.name}'")
            return sorted((_as_version(self.name, v, aliases) for v in found), key=lambda v: int(v.version))

        return self._call(search)

    def version(self, number: str | int | None = None) -> Version:
        """A version by number, or the newest; a clear error for anything else."""
        versions = self.versions()
        if not versions:
            raise RegistryError(
                f"{self.name} has no versions in {self.uri}; run "
                f"`python scripts/mlflow_registry.py register --model {self.kind}` first"
            )
        if number is None:
            return versions[-1]
        for candidate in versions:
            if str(candidate.version) == str(number):
                return candidate
        known = ", ".join(v.version for v in versions)
        raise RegistryError(f"{self.name} has no version {number} (versions: {known})")

    def alias_version(self, alias: str) -> Version | None:
        for version in self.versions():
            if alias in version.aliases:
                return version
        return None

    def history(self) -> list[Transition]:
        events = []
        for version in self.versions():
            for key, value in version.tags.items():
                if key.startswith(TRANSITION_PREFIX):
                    data = json.loads(value)
                    seq = int(key[len(TRANSITION_PREFIX) :])
                    args = (
                        data["at"],
                        version.version,
                        data["from"],
                        data["to"],
                        data["who"],
                        data["reason"],
                    )
                    events.append(Transition(*args, seq=seq, action=data.get("action", "")))
        return sorted(events, key=lambda e: e.seq)

    def artifact_location(self, source: str) -> str:
        """Where a version's files are, asked of this store's client (MLflow's own resolution
        of ``models:/`` goes through its process-wide URIs, which may name another store)."""
        if source.startswith("models:/"):
            model_id = source[len("models:/") :]
            return self._call(lambda: self.client.get_logged_model(model_id).artifact_location)
        return source

    def record(self, version: str, source: str, target: str, reason: str, action: str = "") -> Transition:
        # Microseconds keep keys unique when one command writes several transitions.
        seq = time.time_ns() // 1000
        event = Transition(utc_now(), str(version), source, target, _who(), reason, seq, action)
        key = f"{TRANSITION_PREFIX}{seq}"
        self.client.set_model_version_tag(self.name, str(version), key, event.as_tag_value())
        return event


def parse_models_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` -> (name, alias, version)."""
    if not uri.startswith("models:/"):
        raise RegistryError(f"{uri}: only models:/NAME@ALIAS or models:/NAME/VERSION URIs are supported")
    body = uri[len("models:/") :]
    if "@" in body:
        name, alias = body.split("@", 1)
        return name, alias, None
    name, _, version = body.partition("/")
    return name, None, version or None


def resolve_models_uri(uri: str) -> tuple[RegisteredModel, Version]:
    """The registered model and the version that ``models:/NAME@ALIAS`` or ``models:/NAME/N`` names now."""
    name, alias, number = parse_models_uri(uri)
    try:
        kind = kind_registered_as(name)
    except UserError as exc:
        raise RegistryError(f"{uri}: {exc}") from None
    model = RegisteredModel(kind)
    version = model.alias_version(alias) if alias else model.version(number)
    if version is None:
        raise RegistryError(f"{uri}: no version of {name} has the alias {alias!r}")
    return model, version
