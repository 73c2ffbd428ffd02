"""The production, staging and challenger versions of both models, from the MLflow server's REST API.

Over HTTP only (MLFLOW_TRACKING_URI): the web image carries no MLflow. Without
a server the page shows what the agent serves and says where staging would come from.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx

from callcenterai.kinds import KIND_NAMES, kind_named

ALIASES = ("production", "staging")
# Apart from the table of ALIASES: the models page shows it in each model's challenger part.
CHALLENGER = "challenger"


async def registry_versions(client: httpx.AsyncClient, mlflow_url: str) -> list[dict]:
    """One row per model kind and alias: version, test metrics, registered and promoted when."""
    rows = []
    for kind in KIND_NAMES:
        name = kind_named(kind).registered_name
        for alias in ALIASES:
            version = await _aliased(client, mlflow_url, name, alias)
            if version is None:
                rows.append({"kind": kind, "name": name, "alias": alias, "version": None})
            else:
                rows.append(_row(kind, name, alias, version))
    return rows


async def registry_challengers(client: httpx.AsyncClient, mlflow_url: str) -> dict[str, str | None]:
    """Per model kind, the version the registry's ``challenger`` alias names (None: no challenger)."""
    named = {}
    for kind in KIND_NAMES:
        version = await _aliased(client, mlflow_url, kind_named(kind).registered_name, CHALLENGER)
        named[kind] = None if version is None else str(version["version"])
    return named


async def _aliased(client: httpx.AsyncClient, mlflow_url: str, name: str, alias: str) -> dict | None:
    """The model version an alias names, as MLflow describes it; None when no version carries it."""
    response = await client.get(
        f"{mlflow_url.rstrip('/')}/api/2.0/mlflow/registered-models/alias",
        params={"name": name, "alias": alias},
    )
    if _no_such_alias(response):
        return None
    response.raise_for_status()
    return response.json()["model_version"]


def _no_such_alias(response: httpx.Response) -> bool:
    """MLflow's answer for an alias no version carries: 404, or 400 "alias ... not found" (sqlite store)."""
    if response.status_code == 404:
        return True
    return response.status_code == 400 and "alias" in response.text and "not found" in response.text


def _row(kind: str, name: str, alias: str, version: dict) -> dict:
    tags = {t["key"]: t["value"] for t in version.get("tags", [])}
    metrics = {k.removeprefix("test_"): v for k, v in tags.items() if k.startswith("test_")}
    return {
        "kind": kind,
        "name": name,
        "alias": alias,
        "version": version["version"],
        "metrics": {k: _number(v) for k, v in sorted(metrics.items())},
        "registered_at": _when(int(version.get("creation_timestamp", 0))),
        "promoted_at": _promoted_at(tags, alias),
    }


def _promoted_at(tags: dict, alias: str) -> str | None:
    """The latest transition to ``alias`` recorded in the version's tags (the registry CLI writes them)."""
    moves = []
    for key, value in tags.items():
        if not key.startswith("transition."):
            continue
        try:
            event = json.loads(value)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("to") == alias and "at" in event:
            moves.append(str(event["at"]))
    return max(moves) if moves else None


def _when(millis: int) -> str | None:
    return (
        dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc).isoformat(timespec="seconds")
        if millis
        else None
    )


def _number(value: str):
    """A metric tag as a number (the page rounds it for people), or as it is when it is none."""
    try:
        return float(value)
    except ValueError:
        return value
