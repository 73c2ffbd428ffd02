"""Where the agent's routing policy comes from: a file, or the MLflow store.

``ROUTING_POLICY`` names a policy file (what ``dvc repro`` fitted on this host)
or the word ``registry``: then the policy is the one logged in the MLflow store
(``MLFLOW_TRACKING_URI``) for the models the backends serve, so a container
needs no file and a promotion or rollback brings its policy with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Protocol

from callcenterai.errors import UserError
from callcenterai.routing.policy import PolicyError, RoutingPolicy, read_policy

REGISTRY_SOURCE = "registry"


class PolicySource(Protocol):
    where: str
    follows_models: bool  # whether a change of served models can change the policy

    def read(self, served: Mapping[str, str], exact: bool) -> RoutingPolicy:
        """The policy for ``served`` (kind -> fingerprint of the files a backend serves);
        ``exact``: only one fitted for all of them. Raises PolicyError."""


class FilePolicySource:
    follows_models = False

    def __init__(self, path: Path):
        self.path = Path(path)
        self.where = str(self.path)

    def read(self, served: Mapping[str, str], exact: bool) -> RoutingPolicy:
        return read_policy(self.path)


class RegistryPolicySource:
    follows_models = True

    def __init__(self, uri: str):
        self.uri = uri
        self.where = f"{uri} (experiment callcenterai-routing)"

    def read(self, served: Mapping[str, str], exact: bool) -> RoutingPolicy:
        from callcenterai.registry.policies import download_policy, find_policies

        try:
            found = find_policies(self.uri, served)
            if not found and not exact:
                # Backends not yet known, or serving a pair nobody fitted: the newest policy
                # beats none, and /ready says it does not match.
                found = find_policies(self.uri, {})
            if not found:
                raise PolicyError(self._none_for(served))
            return download_policy(self.uri, found[0])
        except PolicyError:
            raise
        except UserError as exc:  # the store did not answer, or answered something unusable
            raise PolicyError(f"routing policy from {self.where}: {exc}") from None

    def _none_for(self, served: Mapping[str, str]) -> str:
        what = "the models the backends serve" if served else "any models"
        return (
            f"no routing policy for {what} in {self.where}; promote the models with "
            "`python scripts/mlflow_registry.py production` (it logs the policy) or run its `policy` command"
        )


def policy_source(setting: str, tracking_uri: str) -> PolicySource:
    if setting == REGISTRY_SOURCE:
        return RegistryPolicySource(tracking_uri)
    return FilePolicySource(Path(setting))
