"""Experiments the registry tools write to, in any store, with artifacts every reader can reach.

A local store keeps artifacts beside the project (``tracking.artifact_root``). A
server is left to choose: started with ``--artifacts-destination`` it hands out
``mlflow-artifacts:/`` locations that it proxies, so a container reads them over
HTTP. An experiment created before the server proxied artifacts keeps its old
``file://`` location, which only the host that wrote it can read; writing there
for other hosts would register models nobody else can load, so it is refused
with what to do.
"""

from __future__ import annotations

from pathlib import Path

from callcenterai.registry.store import RegistryError
from callcenterai.tracking import artifact_root, is_local_store

SQLITE_PREFIX = "sqlite:///"


def host_only(location: str) -> bool:
    """Whether artifacts at ``location`` can be read only on the machine that wrote them."""
    return location.startswith(("file:", "/"))


def local_artifact_root(uri: str) -> str:
    """Beside a sqlite store's database, as the pipeline keeps the project's."""
    if uri.startswith(SQLITE_PREFIX):
        return (Path(uri[len(SQLITE_PREFIX) :]).resolve().parent / "mlartifacts").as_uri()
    return artifact_root()


def ensure_experiment(client, name: str, uri: str) -> str:
    """The id of experiment ``name`` in the store at ``uri``, created if needed."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        location = f"{local_artifact_root(uri)}/{name}" if is_local_store(uri) else None
        return client.create_experiment(name, artifact_location=location)
    if not is_local_store(uri) and host_only(experiment.artifact_location or ""):
        raise RegistryError(
            f"experiment {name} in {uri} keeps its artifacts at {experiment.artifact_location}, which only "
            "the host that wrote them can read (it was created before the server proxied artifacts). "
            f"Rename it in the MLflow UI or with `mlflow experiments rename --experiment-id "
            f"{experiment.experiment_id} --new-name {name}-host-only`, then run this again: a new "
            "experiment gets the server's proxied location"
        )
    return experiment.experiment_id
