"""MLflow access: where the store is, and the experiments the pipeline logs to.

By default the store is ``sqlite:///<project root>/mlflow.db`` with artifacts in
``<project root>/mlartifacts``; ``MLFLOW_TRACKING_URI`` points at a shared server.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from callcenterai.config import PROJECT_ROOT

# MLflow chats about alembic migrations and environment inference on every call.
for _noisy in ("alembic", "mlflow.store.db.utils", "mlflow.models.model"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)


def default_tracking_uri(root: Path = PROJECT_ROOT) -> str:
    return f"sqlite:///{Path(root).resolve() / 'mlflow.db'}"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def is_local_store(uri: str) -> bool:
    return not uri.startswith(("http://", "https://", "databricks"))


def artifact_root(root: Path = PROJECT_ROOT) -> str:
    return (Path(root).resolve() / "mlartifacts").as_uri()


def use_experiment(name: str) -> str:
    """Point MLflow at the store and the experiment ``name``, creating it if needed."""
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        # A server chooses its own artifact store; a local sqlite store keeps
        # artifacts beside the project rather than in the working directory.
        location = f"{artifact_root()}/{name}" if is_local_store(uri) else None
        experiment_id = mlflow.create_experiment(name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def metric_key(*parts: str) -> str:
    """``metric_key("test", "f1", "HR Support") == "test_f1_hr_support"``."""
    return "_".join(p.strip().lower().replace(" ", "_") for p in parts)
