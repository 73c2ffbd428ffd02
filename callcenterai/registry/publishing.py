"""Publishing the production models, and their routing policy, from one MLflow store to another.

The Quick start trains into a sqlite store on the host; a deployed stack has its
own MLflow server, which containers reach over HTTP. Publishing copies each
classifier's production version as a new run in the target (same params,
metrics and lineage tags, the same served files, logged afresh so they get the
target's artifact location), registers it there and points ``production`` at
it; then the policy fitted for those versions follows. Publishing the same
version twice finds the first copy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from callcenterai.kinds import KIND_NAMES
from callcenterai.models.loading import load_model_dir
from callcenterai.registry.experiments import ensure_experiment
from callcenterai.registry.policies import download_policy, find_policies, log_policy
from callcenterai.registry.policy_sync import production_versions, served_copy, version_fingerprint
from callcenterai.registry.promotion import Registry, promotion_lock
from callcenterai.registry.store import PRODUCTION, RegisteredModel, RegistryError, Version

PUBLISHED_FROM_TAG = "published_from"
EXAMPLE_TICKETS = ("my laptop does not start after the update", "please reset my password for the portal")


def _copy_run(source: RegisteredModel, version: Version, folder: Path, target: Registry) -> str:
    """A run in the target with the source run's record and the served folder logged as its model."""
    import mlflow

    from callcenterai.stages.model_logging import log_model_folder

    run = source._call(lambda: source.client.get_run(version.run_id))
    experiment_id = target._call(
        lambda: ensure_experiment(target.client, target.model_kind.experiment, target.uri)
    )
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    tags[PUBLISHED_FROM_TAG] = f"{source.uri} run {version.run_id} ({source.name} version {version.version})"
    predictor = load_model_dir(folder).predictor
    mlflow.set_tracking_uri(target.uri)  # log_model writes through MLflow's active run
    with mlflow.start_run(experiment_id=experiment_id, run_name=run.info.run_name, tags=tags) as copy:
        mlflow.log_params(run.data.params)
        mlflow.log_metrics(run.data.metrics)
        log_model_folder(folder, target.kind, EXAMPLE_TICKETS, predictor.predict_proba(list(EXAMPLE_TICKETS)))
    return copy.info.run_id


def _published_copy(target: Registry, version: Version) -> Version | None:
    for candidate in target.versions():
        run = target._call(lambda: target.client.get_run(candidate.run_id))
        if f"run {version.run_id} " in run.data.tags.get(PUBLISHED_FROM_TAG, ""):
            return candidate
    return None


def publish_model(kind: str, source_uri: str, target_uri: str) -> str:
    """Copy one kind's production version; returns what was done."""
    source = RegisteredModel(kind, source_uri)
    version = source.alias_version(PRODUCTION)
    if version is None:
        raise RegistryError(f"{source.name} has no production version in {source_uri}; nothing to publish")
    target = Registry(kind, target_uri)
    copy = _published_copy(target, version)
    if copy is None:
        with tempfile.TemporaryDirectory(prefix="callcenterai-publish-") as tmp:
            folder = served_copy(source, version, Path(tmp))
            copy, _ = target.register(_copy_run(source, version, folder, target))
    where = f"{target.name} version {copy.version} in {target_uri} (from version {version.version})"
    if PRODUCTION in copy.aliases:
        return f"{where}: in production already"
    with promotion_lock():
        target._move_alias(PRODUCTION, copy, f"published from {source_uri} version {version.version}")
    return f"{where}: now in production"


def publish_policy(source_uri: str, target_uri: str) -> str:
    """Copy the routing policy fitted for the source's production versions."""
    wanted = {
        kind: version_fingerprint(model, version)
        for kind, (model, version) in production_versions(source_uri).items()
    }
    found = find_policies(source_uri, wanted)
    if not found:
        raise RegistryError(
            f"no routing policy for the production versions in {source_uri}; run "
            "`python scripts/mlflow_registry.py policy` there first"
        )
    policy = download_policy(source_uri, found[0])
    with tempfile.TemporaryDirectory(prefix="callcenterai-policy-") as tmp:
        policy.write(Path(tmp))
        stored = log_policy(target_uri, Path(tmp), f"published from {source_uri} run {found[0].run_id}")
    return f"routing policy fitted at {stored.fitted_at}: run {stored.run_id} in {target_uri}"


def publish(source_uri: str, target_uri: str) -> list[str]:
    """Both classifiers' production versions, then their policy; one line per step."""
    if source_uri == target_uri:
        raise RegistryError(f"--to names the store published from ({source_uri})")
    steps = [publish_model(kind, source_uri, target_uri) for kind in KIND_NAMES]
    return [*steps, publish_policy(source_uri, target_uri)]
