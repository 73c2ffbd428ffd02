"""The model registry: register, promote through staging to production, roll back.

Aliases (``staging``, ``production``) are the source of truth, as MLflow 3
recommends; the legacy stage field is kept in step (None -> Staging ->
Production -> Archived) so the MLflow UI and older clients agree. Every
transition is recorded as a version tag ``transition.<utc time>`` so the
history lives in the store itself.

Promotions are serialised by a lock file next to the project and end with a
reconcile step that makes the stage field follow the aliases, so two promoters
racing can never leave two versions in Production.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from callcenterai.config import PROJECT_ROOT, RegistryParams
from callcenterai.errors import UserError
from callcenterai.model_card import EXPERIMENTS, REGISTERED_NAMES, utc_now
from callcenterai.tracking import tracking_uri

log = logging.getLogger(__name__)

STAGING, PRODUCTION = "staging", "production"
STAGE_OF_ALIAS = {STAGING: "Staging", PRODUCTION: "Production"}
TRANSITION_PREFIX = "transition."
GATE_METRICS = ("accuracy", "macro_f1", "weighted_f1")
KEY_METRICS = ("test_accuracy", "test_macro_f1", "test_ece")
# Fail fast when a server is down instead of MLflow's minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")


class RegistryError(UserError):
    """A registry request that cannot be carried out; the registry is unchanged."""


class GateUnavailable(RegistryError):
    """The gate could not compare the two versions (no shared test data, or production
    cannot be scored); ``--force`` may go ahead, and the note records why."""


@dataclass(frozen=True)
class Version:
    """A registered model version as this module uses it (numbers as strings)."""

    name: str
    version: str
    aliases: tuple[str, ...]
    current_stage: str
    run_id: str
    tags: dict
    creation_timestamp: int
    source: str


@dataclass(frozen=True)
class Transition:
    at: str
    version: str
    source: str
    target: str
    who: str
    reason: str
    seq: int = 0  # microseconds since the epoch, from the tag key: orders same-second events

    def as_tag_value(self) -> str:
        return json.dumps(
            {"at": self.at, "from": self.source, "to": self.target, "who": self.who, "reason": self.reason}
        )


@contextlib.contextmanager
def promotion_lock(path: Path | None = None) -> Iterator[None]:
    """Serialise promotions from this machine (the common case: one operator host or CI)."""
    path = path or PROJECT_ROOT / ".registry.lock"  # read at call time: tests point it elsewhere
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _who() -> str:
    return os.environ.get("CALLCENTERAI_USER") or os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def params_digest(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def _reachable(call: Callable[[], Any], uri: str) -> Any:
    """Run a store call, turning connection failures into one clear line."""
    from mlflow.exceptions import MlflowException

    try:
        return call()
    except MlflowException as exc:
        text = str(exc)
        if any(s in text for s in ("Max retries", "Connection", "connect", "unable to open database")):
            raise RegistryError(
                f"cannot reach the MLflow store at {uri}; start it (python scripts/mlflow_server.py) "
                "or set MLFLOW_TRACKING_URI"
            ) from None
        raise


class Registry:
    """One registered model (``tfidf`` or ``transformer``) in one MLflow store."""

    def __init__(self, kind: str, uri: str | None = None, params: RegistryParams | None = None):
        from mlflow import MlflowClient

        if kind not in REGISTERED_NAMES:
            raise RegistryError(f"unknown model {kind!r}; expected one of {', '.join(REGISTERED_NAMES)}")
        self.kind = kind
        self.name = REGISTERED_NAMES[kind]
        self.uri = uri or tracking_uri()
        self.params = params or RegistryParams()
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    # ----------------------------------------------------------------- reading
    def _call(self, fn: Callable[[], Any]) -> Any:
        return _reachable(fn, self.uri)

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
            return sorted(
                (
                    Version(
                        name=self.name,
                        version=str(v.version),
                        aliases=tuple(sorted(aliases.get(str(v.version), []))),
                        current_stage=v.current_stage or "None",
                        run_id=v.run_id or "",
                        tags=dict(v.tags or {}),
                        creation_timestamp=int(v.creation_timestamp or 0),
                        source=v.source or "",
                    )
                    for v in found
                ),
                key=lambda v: int(v.version),
            )

        return self._call(search)

    def version(self, number: str | int | None = None):
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
                    events.append(
                        Transition(
                            data["at"],
                            version.version,
                            data["from"],
                            data["to"],
                            data["who"],
                            data["reason"],
                            seq=int(key[len(TRANSITION_PREFIX) :]),
                        )
                    )
        return sorted(events, key=lambda e: e.seq)

    # ----------------------------------------------------------------- writing
    def _record(self, version: str, source: str, target: str, reason: str) -> Transition:
        # Microseconds keep keys unique when one command writes several transitions.
        seq = time.time_ns() // 1000
        event = Transition(utc_now(), str(version), source, target, _who(), reason, seq)
        key = f"{TRANSITION_PREFIX}{seq}"
        self.client.set_model_version_tag(self.name, str(version), key, event.as_tag_value())
        return event

    def _state_of(self, version) -> str:
        aliases = set(version.aliases or [])
        if PRODUCTION in aliases:
            return PRODUCTION
        if STAGING in aliases:
            return STAGING
        return (version.current_stage or "None").lower()

    def _latest_run(self, run_id: str | None):
        import mlflow

        client = self.client
        experiment = self._call(lambda: client.get_experiment_by_name(EXPERIMENTS[self.kind]))
        if run_id:
            try:
                run = self._call(lambda: client.get_run(run_id))
            except Exception as exc:  # MLflow raises several types for a missing run
                if isinstance(exc, RegistryError):
                    raise
                raise RegistryError(f"run {run_id} does not exist in {self.uri}") from None
            if experiment is None or run.info.experiment_id != experiment.experiment_id:
                kind = run.data.tags.get("model_kind", "another")
                raise RegistryError(
                    f"run {run_id} is a {kind} run, not a {self.kind} run; pass --model {kind}"
                )
            return run
        if experiment is None:
            raise RegistryError(
                f"no runs yet: experiment {EXPERIMENTS[self.kind]} is not in {self.uri}; "
                "run `dvc repro` first"
            )
        runs = self._call(
            lambda: mlflow.search_runs(
                experiment_ids=[experiment.experiment_id],
                filter_string="attributes.status = 'FINISHED' and metrics.test_macro_f1 >= 0",
                order_by=["attributes.start_time DESC"],
                max_results=1,
                output_format="list",
            )
        )
        if not runs:
            raise RegistryError(
                f"no evaluated {self.kind} run in {self.uri}; run `dvc repro` (train and evaluate) first"
            )
        return runs[0]

    def register(self, run_id: str | None = None) -> tuple[Any, bool]:
        """Register a run's model; returns (version, created). Idempotent per run."""
        import mlflow

        run = self._latest_run(run_id)
        for existing in self.versions():
            if existing.run_id == run.info.run_id:
                return existing, False
        if "test_macro_f1" not in run.data.metrics:
            raise RegistryError(f"run {run.info.run_id} has no test metrics; run the evaluate stage first")
        params = {k: v for k, v in run.data.params.items()}
        tags = {
            "model_kind": self.kind,
            "params_digest": params_digest(params),
            "training_data_md5": run.data.tags.get("training_data_md5", "unknown"),
            "test_data_md5": run.data.tags.get("test_data_md5", "unknown"),
            "git_commit": run.data.tags.get("git_commit", "unknown"),
        }
        tags.update({k: f"{v:.6f}" for k, v in run.data.metrics.items() if k.startswith("test_")})
        logged = self._call(
            lambda: mlflow.search_logged_models(
                experiment_ids=[run.info.experiment_id],
                filter_string=f"source_run_id = '{run.info.run_id}'",
                order_by=[{"field_name": "creation_timestamp", "ascending": False}],  # a re-export wins
                output_format="list",
            )
        )
        if not logged:
            raise RegistryError(f"run {run.info.run_id} logged no model; re-run its training stage")
        version = self._call(
            lambda: mlflow.register_model(f"models:/{logged[0].model_id}", self.name, tags=tags)
        )
        self._record(version.version, "none", "none", f"registered from run {run.info.run_id}")
        return self.version(version.version), True

    def _set_stage(self, version: str, stage: str) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stages are deprecated; we keep them in step on purpose
            self.client.transition_model_version_stage(self.name, str(version), stage)

    def reconcile_stages(self) -> None:
        """Make the legacy stage field follow the aliases (idempotent)."""
        targets = {}
        for alias in (STAGING, PRODUCTION):
            holder = self.alias_version(alias)
            if holder is not None:
                targets[str(holder.version)] = STAGE_OF_ALIAS[alias]  # production wins if both
        for version in self.versions():
            wanted = targets.get(str(version.version))
            if wanted is None and version.current_stage in ("Staging", "Production"):
                wanted = "Archived"
            if wanted and version.current_stage != wanted:
                self._set_stage(version.version, wanted)

    def _move_alias(self, alias: str, version, reason: str) -> Transition:
        """Point ``alias`` at ``version``; undo the alias change if the rest fails."""
        previous = self.alias_version(alias)
        source = self._state_of(version)
        self.client.set_registered_model_alias(self.name, alias, str(version.version))
        try:
            if alias == PRODUCTION and STAGING in (version.aliases or []):
                self.client.delete_registered_model_alias(self.name, STAGING)
            event = self._record(version.version, source, alias, reason)
            if previous is not None and str(previous.version) != str(version.version):
                self._record(previous.version, alias, "archived", f"replaced by version {version.version}")
            self.reconcile_stages()
        except Exception:
            if previous is not None:
                self.client.set_registered_model_alias(self.name, alias, str(previous.version))
            else:
                self.client.delete_registered_model_alias(self.name, alias)
            raise
        return event

    def stage(self, number: str | None = None, reason: str = "") -> Transition:
        with promotion_lock():
            version = self.version(number)
            if PRODUCTION in (version.aliases or []):
                raise RegistryError(f"version {version.version} is in production already")
            return self._move_alias(STAGING, version, reason or "promoted to staging")

    def promote(
        self,
        number: str | None = None,
        force: bool = False,
        reason: str = "",
        scorer: Callable[[Any, Any], tuple[dict, dict]] | None = None,
    ) -> Transition:
        """Move a version to production behind the metric gate (``force`` overrides it)."""
        if force and not reason.strip():
            raise RegistryError('--force needs --reason "..." saying why the gate is overridden')
        with promotion_lock():
            version = self.version(number)
            current = self.alias_version(PRODUCTION)
            if current is not None and str(current.version) == str(version.version):
                raise RegistryError(f"version {version.version} is already in production")
            note = reason or "promoted to production"
            if current is not None:
                try:
                    verdict = self.gate(version, current, scorer)
                except GateUnavailable as exc:
                    if not force:
                        raise
                    verdict = f"no comparison: {exc}"
                if verdict and not force:
                    raise RegistryError(verdict + '; use --force --reason "..." to override')
                if verdict:
                    note = f"forced past gate ({verdict}): {reason}"
            return self._move_alias(PRODUCTION, version, note)

    def gate(self, candidate, current, scorer=None) -> str | None:
        """None if ``candidate`` may replace ``current``, else what failed and by how much."""
        metric, tolerance = self.params.gate_metric, self.params.tolerance
        same_data = candidate.tags.get("test_data_md5") == current.tags.get("test_data_md5") != "unknown"
        if same_data and f"test_{metric}" in candidate.tags and f"test_{metric}" in current.tags:
            new, old = float(candidate.tags[f"test_{metric}"]), float(current.tags[f"test_{metric}"])
            basis = "logged on the same test data"
        elif scorer is not None:
            new_scores, old_scores = scorer(candidate, current)
            new, old = new_scores[metric], old_scores[metric]
            basis = "re-scored on the current test split"
        else:
            raise GateUnavailable(
                f"cannot compare version {candidate.version} with production version {current.version} on "
                "the same test data (different test_data_md5 and no test split to re-score on); "
                "run `dvc repro` or pass --test-data"
            )
        gap = old - new
        log.info(
            "gate: %s candidate v%s %.4f vs production v%s %.4f (%s)",
            metric,
            candidate.version,
            new,
            current.version,
            old,
            basis,
        )
        if gap > tolerance:
            return (
                f"gate failed: {metric} {new:.4f} is {gap:.4f} below production version "
                f"{current.version}'s {old:.4f} (tolerance {tolerance}, {basis})"
            )
        return None

    def rollback(self, reason: str = "") -> Transition:
        """Put back the version that was in production before the current one."""
        with promotion_lock():
            current = self.alias_version(PRODUCTION)
            if current is None:
                raise RegistryError(f"{self.name} has no production version to roll back from")
            earlier = [
                e for e in self.history() if e.target == PRODUCTION and e.version != str(current.version)
            ]
            if not earlier:
                raise RegistryError(f"no earlier production version of {self.name} to roll back to")
            target = self.version(earlier[-1].version)
            return self._move_alias(PRODUCTION, target, reason or f"rollback from version {current.version}")

    def archive(self, number: str, reason: str = "") -> Transition:
        with promotion_lock():
            version = self.version(number)
            if PRODUCTION in (version.aliases or []):
                raise RegistryError(
                    f"version {version.version} is in production; promote another version or roll back first"
                )
            if version.current_stage == "Archived":
                raise RegistryError(f"version {version.version} is archived already")
            source = self._state_of(version)
            if STAGING in (version.aliases or []):
                self.client.delete_registered_model_alias(self.name, STAGING)
            self._set_stage(version.version, "Archived")
            return self._record(version.version, source, "archived", reason or "archived")


# ---------------------------------------------------------------- loading
def _parse_models_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` -> (name, alias, version)."""
    body = uri[len("models:/") :]
    if "@" in body:
        name, alias = body.split("@", 1)
        return name, alias, None
    name, _, version = body.partition("/")
    return name, None, version or None


def resolve_models_uri(uri: str) -> tuple[Registry, Version]:
    """The registry and the version that ``models:/NAME@ALIAS`` or ``models:/NAME/N`` names now."""
    if not uri.startswith("models:/"):
        raise RegistryError(f"{uri}: only models:/NAME@ALIAS or models:/NAME/VERSION URIs are supported")
    name, alias, number = _parse_models_uri(uri)
    kinds = {v: k for k, v in REGISTERED_NAMES.items()}
    if name not in kinds:
        raise RegistryError(f"{uri}: unknown registered model {name!r}")
    registry = Registry(kinds[name])
    version = registry.alias_version(alias) if alias else registry.version(number)
    if version is None:
        raise RegistryError(f"{uri}: no version of {name} has the alias {alias!r}")
    return registry, version


def load_registry_model(uri: str, cache_dir: Path | None = None):
    """Load a registry model, keeping a local copy in ``cache_dir`` for offline starts."""
    import mlflow

    from callcenterai.models.store import ModelLoadError, check_normalisation

    try:
        registry, version = resolve_models_uri(uri)
    except RegistryError as exc:
        raise ModelLoadError(str(exc)) from None
    name = registry.name
    cached = _cached_copy(cache_dir, name, version)
    if cached is not None:
        return cached
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version.version}", tracking_uri=registry.uri
        )
        logged = mlflow.models.Model.load(local)
        card = dict(logged.metadata.get("model_card", {}))
        card.update(
            {
                "name": name,
                "version": str(version.version),
                "aliases": list(version.aliases or []),
                "stage": version.current_stage,
                "run_id": version.run_id,
                "metrics": {
                    k: float(v) for k, v in version.tags.items() if k.startswith("test_") and _is_number(v)
                },
                "registry_uri": registry.uri,
            }
        )
        check_normalisation(card, f"{uri} (version {version.version})")
        loader = (
            _load_logged_transformer
            if card.get("kind", registry.kind) == "transformer"
            else _load_logged_tfidf
        )
        return loader(Path(local), logged, card, uri, cache_dir)
    except ModelLoadError:
        raise
    except Exception as exc:  # any failure to fetch or unpickle is a load failure
        raise ModelLoadError(f"{uri}: could not load version {version.version} ({exc})") from None


def _load_logged_tfidf(local: Path, logged, card: dict, uri: str, cache_dir: Path | None):
    import mlflow

    from callcenterai.models.store import LoadedModel, predictor_for, save_model_dir

    model = mlflow.sklearn.load_model(str(local))
    loaded = LoadedModel(predictor=predictor_for("tfidf", model), card=card, source=uri)
    if cache_dir is not None:
        save_model_dir(Path(cache_dir), model, card)
    return loaded


def _load_logged_transformer(local: Path, logged, card: dict, uri: str, cache_dir: Path | None):
    """The served folder travels as the pyfunc model's artifact; load it as a model folder."""
    from callcenterai.models.store import copy_model_dir, load_model_dir

    # One artifact, the folder (read from MLmodel: importing the pyfunc wrapper needs pandas).
    (artifact,) = logged.flavors["python_function"]["artifacts"].values()
    folder = local / artifact["path"]
    if cache_dir is not None:
        copy_model_dir(folder, Path(cache_dir), card)
        folder = Path(cache_dir)
    else:
        copy_model_dir(folder, folder, card)
    loaded = load_model_dir(folder)
    loaded.source = uri
    return loaded


def _cached_copy(cache_dir: Path | None, name: str, version: Version):
    """The local copy of exactly this version, if one was kept (skips a slow skops load)."""
    from callcenterai.models.store import ModelLoadError, load_model_dir

    if cache_dir is None or not (Path(cache_dir) / "model_card.json").is_file():
        return None
    try:
        loaded = load_model_dir(Path(cache_dir))
    except ModelLoadError:
        return None
    same = (loaded.card.get("name"), loaded.card.get("version"), loaded.card.get("run_id")) == (
        name,
        version.version,
        version.run_id,
    )
    if not same:
        return None
    loaded.card.update({"aliases": list(version.aliases), "stage": version.current_stage})
    return loaded


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
