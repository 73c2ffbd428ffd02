"""Registering a training run's model as a new version of its registered model."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from callcenterai.errors import UserError
from callcenterai.fileio import tree_digest
from callcenterai.model_card import CARD_FILE, read_card
from callcenterai.registry.artifacts import (
    DIGEST_TAG,
    FINGERPRINT_TAG,
    download_served_folder,
    served_fingerprint,
)
from callcenterai.registry.store import RegisteredModel, RegistryError, Version


def params_digest(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def _named_run(model: RegisteredModel, run_id: str, experiment):
    try:
        run = model._call(lambda: model.client.get_run(run_id))
    except Exception as exc:  # MLflow raises several types for a missing run
        if isinstance(exc, RegistryError):
            raise
        raise RegistryError(f"run {run_id} does not exist in {model.uri}") from None
    if experiment is None or run.info.experiment_id != experiment.experiment_id:
        kind = run.data.tags.get("model_kind", "another")
        raise RegistryError(f"run {run_id} is a {kind} run, not a {model.kind} run; pass --model {kind}")
    return run


def run_of_folder(folder: Path) -> str | None:
    """The MLflow run that made the model in ``folder`` (its card names it), if there is one."""
    try:
        return read_card(folder).mlflow_run_id
    except UserError:
        return None


def find_run(model: RegisteredModel, run_id: str | None, folder: Path | None = None):
    """The run named; else the one that made the model in ``folder`` (the pipeline's output:
    after `dvc exp apply` that is the applied experiment, not the newest run); else the
    newest evaluated run of the kind's experiment."""

    experiment_name = model.model_kind.experiment
    experiment = model._call(lambda: model.client.get_experiment_by_name(experiment_name))
    if experiment is None and not run_id:
        raise RegistryError(
            f"no runs yet: experiment {experiment_name} is not in {model.uri}; run `dvc repro` first"
        )
    named_by_folder = run_of_folder(folder) if folder is not None and not run_id else None
    if named_by_folder:
        try:
            return _named_run(model, named_by_folder, experiment)
        except RegistryError as exc:
            raise RegistryError(f"{folder / CARD_FILE} names run {named_by_folder}, but {exc}") from None
    if run_id:
        return _named_run(model, run_id, experiment)
    # The client, never MLflow's fluent functions: those use a process-wide URI.
    runs = model._call(
        lambda: model.client.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string="attributes.status = 'FINISHED' and metrics.test_macro_f1 >= 0",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    )
    if not runs:
        raise RegistryError(
            f"no evaluated {model.kind} run in {model.uri}; run `dvc repro` (train and evaluate) first"
        )
    return runs[0]


def _logged_model_id(model: RegisteredModel, run) -> str:
    logged = model._call(
        lambda: model.client.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
            order_by=[{"field_name": "creation_timestamp", "ascending": False}],  # a re-export wins
        )
    )
    if not logged:
        raise RegistryError(f"run {run.info.run_id} logged no model; re-run its training stage")
    return logged[0].model_id


def _version_tags(model: RegisteredModel, run, model_id: str) -> dict[str, str]:
    params = dict(run.data.params)
    with tempfile.TemporaryDirectory() as tmp:
        location = model.artifact_location(f"models:/{model_id}")
        folder = model._call(lambda: download_served_folder(location, Path(tmp), model.uri))
        digest, fingerprint = tree_digest(folder), served_fingerprint(folder)
    tags = {
        "model_kind": model.kind,
        "params_digest": params_digest(params),
        "training_data_md5": run.data.tags.get("training_data_md5", "unknown"),
        "test_data_md5": run.data.tags.get("test_data_md5", "unknown"),
        "git_commit": run.data.tags.get("git_commit", "unknown"),
        DIGEST_TAG: digest,
        FINGERPRINT_TAG: fingerprint,
    }
    cap = params.get("max_train_rows")
    if cap not in (None, "", "None"):
        tags["row_cap"] = cap
    tags.update({k: f"{v:.6f}" for k, v in run.data.metrics.items() if k.startswith("test_")})
    return tags


def register(
    model: RegisteredModel, run_id: str | None = None, folder: Path | None = None
) -> tuple[Version, bool]:
    """Register a run's model (see ``find_run``); returns (version, created). Idempotent per run."""
    from mlflow.exceptions import MlflowException

    run = find_run(model, run_id, folder)
    for existing in model.versions():
        if existing.run_id == run.info.run_id:
            return existing, False
    if "test_macro_f1" not in run.data.metrics:
        raise RegistryError(f"run {run.info.run_id} has no test metrics; run the evaluate stage first")
    model_id = _logged_model_id(model, run)
    tags = _version_tags(model, run, model_id)
    try:
        model._call(lambda: model.client.create_registered_model(model.name))
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
    version = model._call(
        # The files' own location as the source: a models:/ source would be resolved by
        # MLflow through its process-wide tracking URI, which may name another store.
        lambda: model.client.create_model_version(
            model.name,
            model.artifact_location(f"models:/{model_id}"),
            run_id=run.info.run_id,
            tags=tags,
            model_id=model_id,
        )
    )
    model.record(version.version, "none", "none", f"registered from run {run.info.run_id}")
    return model.version(version.version), True
