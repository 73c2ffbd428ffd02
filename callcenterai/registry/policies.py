"""Routing policies in the MLflow store, beside the models they were fitted for.

Each fitted policy is one run of the experiment ``callcenterai-routing``: the
policy folder is its artifact, and tags name the fingerprint of each model it
was fitted for. Whoever needs the policy for a pair of models (the agent, for
what its backends serve; the registry tool, for what is in production) looks it
up by those tags, so a promotion or a rollback needs no file on any host.
Nothing here trains or scores: the agent imports it.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from callcenterai.registry.experiments import ensure_experiment
from callcenterai.registry.store import RegistryError, reachable
from callcenterai.routing.policy import POLICY_FILE, RoutingPolicy, read_policy

POLICY_EXPERIMENT = "callcenterai-routing"
POLICY_ARTIFACT = "policy"
POLICY_SHA_TAG = "policy_sha256"


def fingerprint_tag(kind: str) -> str:
    return f"fitted_for_{kind}"


@dataclass(frozen=True)
class StoredPolicy:
    """A policy run: where it is and what it was fitted for."""

    run_id: str
    fitted_at: str
    fingerprints: dict[str, str]
    sha256: str


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _stored(run, kinds: tuple[str, ...]) -> StoredPolicy:
    tags = run.data.tags
    return StoredPolicy(
        run_id=run.info.run_id,
        fitted_at=tags.get("fitted_at", ""),
        fingerprints={kind: tags.get(fingerprint_tag(kind), "") for kind in kinds},
        sha256=tags.get(POLICY_SHA_TAG, ""),
    )


def find_policies(uri: str, fingerprints: Mapping[str, str], limit: int = 1) -> list[StoredPolicy]:
    """The newest policies fitted for every model in ``fingerprints`` (kind -> fingerprint);
    an empty mapping matches any policy."""

    def search():
        client = _client(uri)
        experiment = client.get_experiment_by_name(POLICY_EXPERIMENT)
        if experiment is None:
            return []
        conditions = ["attributes.status = 'FINISHED'"]
        conditions += [f"tags.{fingerprint_tag(kind)} = '{value}'" for kind, value in fingerprints.items()]
        return client.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string=" and ".join(conditions),
            order_by=["attributes.start_time DESC"],
            max_results=limit,
        )

    return [_stored(run, ("tfidf", "transformer")) for run in reachable(search, uri)]


def download_policy(uri: str, stored: StoredPolicy) -> RoutingPolicy:
    """The policy of a run, checked against the digest recorded when it was logged."""
    import mlflow

    with tempfile.TemporaryDirectory(prefix="callcenterai-policy-") as tmp:
        local = reachable(
            lambda: mlflow.artifacts.download_artifacts(
                run_id=stored.run_id,
                artifact_path=f"{POLICY_ARTIFACT}/{POLICY_FILE}",
                dst_path=tmp,
                tracking_uri=uri,
            ),
            uri,
        )
        data = Path(local).read_bytes()
        if hashlib.sha256(data).hexdigest() != stored.sha256:
            raise RegistryError(
                f"routing policy of run {stored.run_id}: its file differs from what was logged "
                f"({POLICY_SHA_TAG} mismatch); refusing it"
            )
        return read_policy(Path(local))


def log_policy(uri: str, policy_dir: Path, note: str) -> StoredPolicy:
    """Log a policy folder as a run (once per policy file: a second call finds the first)."""
    policy = read_policy(policy_dir)
    data = (Path(policy_dir) / POLICY_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    fingerprints = {kind: fitted.fingerprint for kind, fitted in policy.fitted_for.items()}
    for found in find_policies(uri, fingerprints, limit=20):
        if found.sha256 == digest:
            return found
    tags = {
        **{fingerprint_tag(kind): value for kind, value in fingerprints.items()},
        **{f"fitted_for_{kind}_model": fitted.name for kind, fitted in policy.fitted_for.items()},
        POLICY_SHA_TAG: digest,
        "fitted_at": policy.fitted_at,
        "note": note,
    }

    def write():
        client = _client(uri)
        run = client.create_run(ensure_experiment(client, POLICY_EXPERIMENT, uri), tags=tags)
        client.log_artifacts(run.info.run_id, str(policy_dir), POLICY_ARTIFACT)
        for name, value in policy.expected.model_dump().items():
            client.log_metric(run.info.run_id, f"expected_{name}", float(value))
        client.set_terminated(run.info.run_id)
        return client.get_run(run.info.run_id)

    return _stored(reachable(write, uri), tuple(fingerprints))
