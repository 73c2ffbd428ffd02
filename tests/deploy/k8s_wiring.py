"""deploy/k8s checks of how the workloads are wired: secrets, variables, images, Services, autoscalers
and disruption budgets. Each returns the problems it finds (an empty list: none)."""

from __future__ import annotations

import re

from tests.deploy.k8s_manifests import (
    PROCESS_VARIABLES,
    SCALED,
    SECRET_NAME,
    SECRETISH_NAME,
    SECRETISH_VALUE,
    SETTINGS,
    WORKLOADS,
    container,
    of_kind,
    secret_keys,
)
from tests.deploy.k8s_policies import selector_matches


def _aliases(name: str) -> set[str]:
    fields = SETTINGS[name].model_fields.values()
    return {field.validation_alias for field in fields if isinstance(field.validation_alias, str)}


def secret_problems(docs: list[dict]) -> list[str]:
    """No value inlined: no Secret rendered, no secret-looking env value, files from the one Secret."""
    problems = [
        f"Secret {name} is rendered: secrets are created, never committed" for name in of_kind(docs, "Secret")
    ]
    keys = secret_keys()
    for name, deployment in of_kind(docs, "Deployment").items():
        main = container(deployment)
        for item in main.get("env", []):
            value = item.get("value")
            if value is not None and (SECRETISH_NAME.search(item["name"]) or SECRETISH_VALUE.search(value)):
                problems.append(f"{name}: {item['name']} is inlined")
        mounts = {mount["name"]: mount for mount in main.get("volumeMounts", [])}
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "secret" not in volume:
                continue
            secret, mount = volume["secret"], mounts.get(volume["name"], {})
            if secret["secretName"] != SECRET_NAME:
                problems.append(f"{name}: mounts Secret {secret['secretName']}, not {SECRET_NAME}")
            if mount.get("mountPath") != "/run/secrets" or not mount.get("readOnly"):
                problems.append(f"{name}: secret files are not mounted read-only at /run/secrets")
            unknown = {item["key"] for item in secret.get("items", [])} - keys
            if unknown or not secret.get("items"):
                problems.append(f"{name}: Secret keys {sorted(unknown)} are not scripts/make_secrets.py's")
    return problems


def variable_problems(docs: list[dict]) -> list[str]:
    """Every variable and secret file a service is given is one its settings read (no typo goes unseen)."""
    problems = []
    for name, deployment in of_kind(docs, "Deployment").items():
        if name not in SETTINGS:
            continue
        known = _aliases(name) | PROCESS_VARIABLES
        given = {item["name"] for item in container(deployment).get("env", [])}
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            files = {item["path"] for item in volume.get("secret", {}).get("items", [])}
            given |= files - {"reviewers"}  # REVIEWERS_FILE names it
        problems += [f"{name}: {variable} is read by nothing" for variable in sorted(given - known)]
    return problems


def image_problems(docs: list[dict]) -> list[str]:
    """ghcr.io/<owner>/callcenterai/<service>:<tag> (as CI pushes it), the tag set by the overlay."""
    problems = []
    for name, deployment in of_kind(docs, "Deployment").items():
        image = container(deployment)["image"]
        repository = rf"ghcr\.io/[a-z0-9-]+/callcenterai/{WORKLOADS[name][0]}"
        match = re.fullmatch(rf"{repository}:(?P<tag>[\w.-]+)(@sha256:[0-9a-f]{{64}})?", image)
        if match is None or match["tag"] == "latest":
            problems.append(f"{name}: image {image}")
    return problems


def _scaling_of(name: str, deployment: dict, docs: list[dict]) -> list[str]:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    autoscalers = [
        hpa
        for hpa in of_kind(docs, "HorizontalPodAutoscaler").values()
        if hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    ]
    budgets = [
        pdb
        for pdb in of_kind(docs, "PodDisruptionBudget").values()
        if selector_matches(pdb["spec"]["selector"], labels)
    ]
    problems = [] if budgets else [f"{name}: no PodDisruptionBudget"]
    if len(autoscalers) != 1:
        return problems + [f"{name}: {len(autoscalers)} autoscalers"]
    spec = autoscalers[0]["spec"]
    on_cpu = [metric for metric in spec.get("metrics", []) if metric.get("resource", {}).get("name") == "cpu"]
    if not on_cpu or not 1 <= spec.get("minReplicas", 1) <= spec["maxReplicas"]:
        problems.append(
            f"{name}: autoscaler not on CPU or bounds {spec.get('minReplicas')}..{spec['maxReplicas']}"
        )
    if "replicas" in deployment["spec"]:
        problems.append(f"{name}: sets replicas, which its autoscaler owns")
    return problems


def scaling_problems(docs: list[dict]) -> list[str]:
    """A CPU autoscaler (owning the replica count) and a disruption budget for each service; a
    Service in front of every workload, on its port."""
    problems = []
    services = of_kind(docs, "Service")
    for name, deployment in of_kind(docs, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        service = services.get(name, {}).get("spec", {})
        ports = [port["port"] for port in service.get("ports", [])]
        if not selector_matches({"matchLabels": service.get("selector", {"-": "-"})}, labels) or ports != [
            WORKLOADS[name][1]
        ]:
            problems.append(f"{name}: no Service on port {WORKLOADS[name][1]} selecting its pods")
        if name in SCALED:
            problems += _scaling_of(name, deployment, docs)
    missing = set(WORKLOADS) - set(of_kind(docs, "Deployment"))
    return problems + [f"{name}: no Deployment" for name in sorted(missing)]
