"""What the stack asks its MLflow server once it is up: which alias each classifier service serves,
and whether the agent can take its routing policy from the registry.

Aliases: ``production`` where there is one. A project set up with
``setup_mlops.py --quick`` has its row-capped transformer in ``staging`` only (the
registry refuses such a model production), so the stack serves ``staging`` there and
says so, rather than a service that never gets ready. With neither, ``up`` stops and
says what to run.

Policy: unless ``--routing-policy`` says otherwise, the agent routes by the policy
logged in the store (``ROUTING_POLICY=registry``) where the store has one, else by the
project's policy file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from callcenterai.agent.policy_source import REGISTRY_SOURCE
from callcenterai.kinds import kind_named
from callcenterai.registry.policies import POLICY_EXPERIMENT
from callcenterai.stack.layout import StackError, StackLayout
from callcenterai.stack.services import ServiceSpec

ALIASES = ("production", "staging")  # the first the registry has is served
CLASSIFIERS = {"tfidf_svc": "tfidf", "transformer_svc": "transformer"}


def _ask(mlflow_url: str, method: str, path: str, **request) -> httpx.Response:
    try:
        answer = httpx.request(method, f"{mlflow_url}/api/2.0/mlflow/{path}", timeout=15, **request)
    except httpx.HTTPError as exc:
        raise StackError(f"MLflow at {mlflow_url} did not answer ({type(exc).__name__})") from None
    if answer.status_code >= 500:
        raise StackError(f"MLflow at {mlflow_url} failed ({answer.status_code}) on {path}")
    return answer


def has_alias(mlflow_url: str, registered_name: str, alias: str) -> bool:
    """MLflow answers 200 for a version under that alias, 400 for no such alias, 404 for no such model."""
    params = {"name": registered_name, "alias": alias}
    return _ask(mlflow_url, "GET", "registered-models/alias", params=params).status_code == 200


def served_alias(mlflow_url: str, kind: str) -> str:
    name = kind_named(kind).registered_name
    for alias in ALIASES:
        if has_alias(mlflow_url, name, alias):
            return alias
    raise StackError(
        f"{name} has no production (nor staging) version in the store: register and promote one "
        f"(python scripts/mlflow_registry.py register --model {kind}, then production --model {kind}); "
        "the Quick start does both"
    )


def store_has_policy(mlflow_url: str) -> bool:
    """Whether the store holds any fitted routing policy (a run of the routing experiment)."""
    found = _ask(mlflow_url, "GET", "experiments/get-by-name", params={"experiment_name": POLICY_EXPERIMENT})
    if found.status_code != 200:
        return False
    search = {"experiment_ids": [found.json()["experiment"]["experiment_id"]], "max_results": 1}
    return bool(_ask(mlflow_url, "POST", "runs/search", json=search).json().get("runs"))


def with_served_alias(spec: ServiceSpec, mlflow_url: str) -> ServiceSpec:
    kind = CLASSIFIERS[spec.name]
    alias = served_alias(mlflow_url, kind)
    if alias == "production":
        return spec
    name = kind_named(kind).registered_name
    note = (
        f"serves @{alias}: {name} has no production version (a quick model is refused it); "
        "after promoting one, restart the stack"
    )
    return dataclasses.replace(spec, env={**spec.env, "MODEL_URI": f"models:/{name}@{alias}"}, note=note)


def with_policy_source(spec: ServiceSpec, layout: StackLayout, mlflow_url: str) -> ServiceSpec:
    """The agent routing by the registry's policy, unless a source was chosen or the store has none."""
    if layout.routing_policy:
        return spec
    if store_has_policy(mlflow_url):
        note = "routes by the policy logged in MLflow for the served models (ROUTING_POLICY=registry)"
        return dataclasses.replace(spec, env={**spec.env, "ROUTING_POLICY": REGISTRY_SOURCE}, note=note)
    if not Path(layout.policy).is_file():
        raise StackError(f"no routing policy in the store nor at {layout.policy}: run the Quick start first")
    return dataclasses.replace(spec, note=f"routes by the policy file {layout.policy} (none in the store)")


def as_the_registry_says(plan: list[ServiceSpec], layout: StackLayout) -> list[ServiceSpec]:
    """The plan with each classifier at the alias it will serve and the agent's policy source."""
    mlflow_url = layout.url("mlflow")
    resolved = []
    for spec in plan:
        if spec.name in CLASSIFIERS:
            spec = with_served_alias(spec, mlflow_url)
        elif spec.name == "agent":
            spec = with_policy_source(spec, layout, mlflow_url)
        resolved.append(spec)
    return resolved
