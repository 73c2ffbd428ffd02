"""Keeping the routing policy in step with the production models.

After a promotion or a rollback the agent must route by a policy fitted for the
versions now in production. In order: a policy already logged for exactly those
versions; else the pipeline's own ``models/routing`` when it was fitted for
them; else one fitted now on the test split from the registered files.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from callcenterai.kinds import KIND_NAMES
from callcenterai.registry.artifacts import (
    DIGEST_TAG,
    FINGERPRINT_TAG,
    check_digest,
    download_served_folder,
    served_fingerprint,
)
from callcenterai.registry.policies import StoredPolicy, find_policies, log_policy
from callcenterai.registry.store import PRODUCTION, RegisteredModel, RegistryError, Version
from callcenterai.routing.params import FitRoutingParams
from callcenterai.routing.policy import PolicyError, read_policy


@dataclass(frozen=True)
class PolicyOutcome:
    stored: StoredPolicy
    how: str  # what was done, for the operator


def served_copy(model: RegisteredModel, version: Version, dest: Path) -> Path:
    """A version's served folder, checked against its registration digest."""
    location = model.artifact_location(version.source)
    folder = model._call(lambda: download_served_folder(location, dest, model.uri))
    check_digest(folder, version.tags.get(DIGEST_TAG), f"{model.name} version {version.version}")
    return folder


def version_fingerprint(model: RegisteredModel, version: Version) -> str:
    """The version's fingerprint tag; a version registered before the tag existed gets it now."""
    if version.tags.get(FINGERPRINT_TAG):
        return version.tags[FINGERPRINT_TAG]
    with tempfile.TemporaryDirectory(prefix="callcenterai-card-") as tmp:
        value = served_fingerprint(served_copy(model, version, Path(tmp)))
    model._call(
        lambda: model.client.set_model_version_tag(model.name, version.version, FINGERPRINT_TAG, value)
    )
    return value


def production_versions(uri: str) -> dict[str, tuple[RegisteredModel, Version]]:
    found = {}
    for kind in KIND_NAMES:
        model = RegisteredModel(kind, uri)
        version = model.alias_version(PRODUCTION)
        if version is None:
            raise RegistryError(f"{model.name} has no production version in {uri}; no policy to choose yet")
        found[kind] = (model, version)
    return found


def _local_policy_for(folder: Path, wanted: dict[str, str]) -> Path | None:
    try:
        policy = read_policy(folder)
    except PolicyError:
        return None
    fitted = {kind: model.fingerprint for kind, model in policy.fitted_for.items()}
    return folder if fitted == wanted else None


def _fit(production: dict, test_data: Path, params: FitRoutingParams, uri: str) -> StoredPolicy:
    from callcenterai.stages.fit_routing import run_fit_routing

    if not Path(test_data).is_file():
        raise RegistryError(
            f"no routing policy fitted for the production versions, and no test split at {test_data} to "
            "fit one on: run `dvc repro prepare` or pass --test-data; the agent keeps warning until then"
        )
    with tempfile.TemporaryDirectory(prefix="callcenterai-fit-") as tmp:
        folders = tuple(
            served_copy(model, version, Path(tmp) / kind) for kind, (model, version) in production.items()
        )
        policy_dir = Path(tmp) / "routing"
        run_fit_routing(Path(test_data), folders, policy_dir, Path(tmp) / "report", params)
        names = ", ".join(f"{kind} v{version.version}" for kind, (_, version) in production.items())
        return log_policy(uri, policy_dir, f"fitted by mlflow_registry.py for {names} on {test_data}")


def ensure_policy(uri: str, test_data: Path, local_policy: Path, params: FitRoutingParams) -> PolicyOutcome:
    """Find, log or fit the routing policy for the versions in production now."""
    production = production_versions(uri)
    wanted = {kind: version_fingerprint(model, version) for kind, (model, version) in production.items()}
    found = find_policies(uri, wanted)
    if found:
        return PolicyOutcome(found[0], "found the policy already logged for them")
    local = _local_policy_for(Path(local_policy), wanted)
    if local is not None:
        stored = log_policy(uri, local, f"fitted by the pipeline's fit_routing stage ({local})")
        return PolicyOutcome(stored, f"logged the pipeline's policy from {local}")
    return PolicyOutcome(_fit(production, test_data, params, uri), f"fitted a new one on {test_data}")
