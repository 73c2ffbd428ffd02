"""deploy/k8s offline: each overlay rendered by `kubectl kustomize`, validated against Kubernetes'
schemas (kubernetes-validate --strict), scanned by checkov, and read for what the issue asks of every
workload and of the network policies. Each check is also shown a broken copy, which it must refuse.
No cluster runs here."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from callcenterai.config import PROJECT_ROOT
from tests.deploy import k8s_manifests as manifests
from tests.deploy import k8s_wiring as wiring
from tests.deploy.k8s_manifests import (
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    WORKLOADS,
    container,
    documents,
    of_kind,
)
from tests.deploy.k8s_policies import Peer, may_connect

CHECKS = {
    "probes": manifests.probe_problems,
    "pod security": manifests.security_problems,
    "writable paths": manifests.writable_problems,
    "resources": manifests.resource_problems,
    "secrets": wiring.secret_problems,
    "variables": wiring.variable_problems,
    "images": wiring.image_problems,
    "scaling": wiring.scaling_problems,
}
# Who may open a connection to whom (each workload on its port, the review database on 5432).
ALLOWED = {
    ("web-interface", "agent"),
    ("agent", "tfidf-svc"),
    ("agent", "transformer-svc"),
    *{(client, "mlflow") for client in ("tfidf-svc", "transformer-svc", "agent", "web-interface")},
    ("agent", "review-db"),
    ("web-interface", "review-db"),
    ("ingress controller", "web-interface"),
    *{("prometheus", workload) for workload in WORKLOADS},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("k8s")
    for overlay in OVERLAYS:
        (folder / f"{overlay}.yaml").write_text(manifests.render(K8S / "overlays" / overlay))
    return {overlay: folder / f"{overlay}.yaml" for overlay in OVERLAYS}


def deployment(docs: list[dict], name: str) -> dict:
    return of_kind(docs, "Deployment")[name]


def _set_env(docs: list[dict], name: str, variable: str, value: str | None) -> None:
    env = [item for item in container(deployment(docs, name))["env"] if item["name"] != variable]
    container(deployment(docs, name))["env"] = env + ([{"name": variable, "value": value}] if value else [])


def _drop_mount(docs: list[dict], name: str, path: str) -> None:
    main = container(deployment(docs, name))
    main["volumeMounts"] = [mount for mount in main["volumeMounts"] if mount["mountPath"] != path]


def _drop(docs: list[dict], kind: str, name: str) -> None:
    docs.remove(of_kind(docs, kind)[name])


MUTATIONS = {
    "no startup probe": (
        "probes",
        lambda docs: container(deployment(docs, "transformer-svc")).pop("startupProbe"),
    ),
    "short transformer startup": (
        "probes",
        lambda docs: container(deployment(docs, "transformer-svc"))["startupProbe"].update(
            failureThreshold=3
        ),
    ),
    "writable root": (
        "pod security",
        lambda docs: container(deployment(docs, "agent"))["securityContext"].update(
            readOnlyRootFilesystem=False
        ),
    ),
    "root user": (
        "pod security",
        lambda docs: deployment(docs, "web-interface")["spec"]["template"]["spec"]["securityContext"].update(
            runAsUser=0
        ),
    ),
    "no spool volume": ("writable paths", lambda docs: _drop_mount(docs, "agent", "/data")),
    "spool moved": (
        "writable paths",
        lambda docs: _set_env(docs, "agent", "REVIEW_SPOOL_PATH", "/app/spool.db"),
    ),
    "no /tmp": ("writable paths", lambda docs: _drop_mount(docs, "tfidf-svc", "/tmp")),
    "no limits": (
        "resources",
        lambda docs: container(deployment(docs, "web-interface"))["resources"].pop("limits"),
    ),
    "inline password": (
        "secrets",
        lambda docs: _set_env(docs, "agent", "DATABASE_PASSWORD", "hunter2hunter2"),
    ),
    "inline key": ("secrets", lambda docs: _set_env(docs, "agent", "POLICY_POLL_SECONDS", "ab" * 16)),
    "committed Secret": (
        "secrets",
        lambda docs: docs.append({"kind": "Secret", "metadata": {"name": "x"}, "stringData": {"k": "v"}}),
    ),
    "misspelt variable": (
        "variables",
        lambda docs: _set_env(docs, "agent", "REVIEW_SPOOL_DIR", "/var/spool"),
    ),
    "latest image": (
        "images",
        lambda docs: container(deployment(docs, "agent")).update(
            image="ghcr.io/callcenterai/callcenterai/agent:latest"
        ),
    ),
    "no agent autoscaler": ("scaling", lambda docs: _drop(docs, "HorizontalPodAutoscaler", "agent")),
    "no transformer budget": ("scaling", lambda docs: _drop(docs, "PodDisruptionBudget", "transformer-svc")),
}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("check", CHECKS)
def test_every_workload_passes_the_check(rendered, overlay, check):
    assert CHECKS[check](documents(rendered[overlay].read_text())) == []


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_each_check_refuses_a_broken_copy(rendered, mutation):
    check, mutate = MUTATIONS[mutation]
    docs = documents(rendered["staging"].read_text())
    mutate(docs)
    assert CHECKS[check](docs) != []


def test_the_overlays_validate_strictly_against_kubernetes_and_a_typo_does_not(rendered, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        rendered["staging"].read_text().replace("readOnlyRootFilesystem:", "readOnlyRootFilesytem:")
    )
    command = [sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", KUBERNETES_VERSION]
    result = subprocess.run(
        [*command, *map(str, rendered.values()), str(broken)], capture_output=True, text=True
    )
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert errors and all(str(broken) in line for line in errors), result.stdout + result.stderr
    assert {line.split("resource ")[1].split(" ")[0] for line in errors} == {
        f"deployment/{name}" for name in WORKLOADS
    }


def checkov() -> str:
    """setup_mlops.py installs checkov into .venv-tools (requirements-tools.txt): missing is a failure."""
    found = PROJECT_ROOT / ".venv-tools" / "bin" / "checkov"
    assert found.exists() or shutil.which("checkov"), "no checkov: run python setup_mlops.py --install-only"
    return str(found) if found.exists() else shutil.which("checkov")


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_checkov_finds_nothing_unjustified_and_flags_a_writable_root(rendered, tmp_path):
    for overlay, path in rendered.items():
        shutil.copy(path, tmp_path / path.name)
    docs = documents(rendered["production"].read_text())
    container(deployment(docs, "agent"))["securityContext"]["readOnlyRootFilesystem"] = False
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump_all(docs))
    command = [checkov(), "-d", str(tmp_path), "--framework", "kubernetes", "--skip-download", "-o", "json"]
    result = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    )
    report = json.loads(result.stdout)["results"]
    failed = {
        (check["file_path"].lstrip("/"), check["check_id"], check["resource"])
        for check in report["failed_checks"]
    }
    assert failed == {("broken.yaml", "CKV_K8S_22", "Deployment.callcenterai.agent")}
    assert report["parsing_errors"] == []
    for skipped in report["skipped_checks"]:
        assert len(skipped["check_result"]["suppress_comment"]) > 20, skipped["check_id"]


def network_peers(docs: list[dict]) -> tuple[dict[str, Peer], dict[str, tuple[Peer, int]]]:
    """The sources and (destination, port) pairs the matrix is computed over."""
    namespace = deployment(docs, "agent")["metadata"]["namespace"]
    pods = {
        name: Peer(name, namespace, spec["spec"]["template"]["metadata"]["labels"])
        for name, spec in of_kind(docs, "Deployment").items()
    }
    cidr = of_kind(docs, "NetworkPolicy")["review-db-egress"]["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"]
    sources = {
        **pods,
        "prometheus": Peer("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}),
        "ingress controller": Peer("ingress", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
        "stray pod": Peer("stray", namespace, {"app.kubernetes.io/name": "debug"}),
        "agent elsewhere": Peer("agent", "default", {"app.kubernetes.io/name": "agent"}),
    }
    destinations = {name: (pod, WORKLOADS[name][1]) for name, pod in pods.items()}
    destinations["review-db"] = (Peer("review-db", ip=str(next(ipaddress.ip_network(cidr).hosts()))), 5432)
    destinations["internet"] = (Peer("internet", ip="203.0.113.7"), 443)
    return sources, destinations


def reachable(docs: list[dict]) -> set[tuple[str, str]]:
    policies = list(of_kind(docs, "NetworkPolicy").values())
    sources, destinations = network_peers(docs)
    namespace = sources["agent"].namespace
    # From another namespace to outside the cluster: other policies than these decide.
    return {
        (source_name, name)
        for source_name, source in sources.items()
        for name, (destination, port) in destinations.items()
        if source is not destination
        and (destination.ip is None or source.namespace == namespace)
        and may_connect(policies, source, destination, port)
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_network_policies_allow_exactly_the_intended_connections(rendered, overlay):
    docs = documents(rendered[overlay].read_text())
    assert reachable(docs) == ALLOWED
    dns = Peer("dns", "kube-system", {"k8s-app": "kube-dns"})
    policies = list(of_kind(docs, "NetworkPolicy").values())
    sources, _ = network_peers(docs)
    assert all(may_connect(policies, sources[name], dns, 53, "UDP") for name in WORKLOADS)


def _open_ingress(docs: list[dict], name: str) -> None:
    of_kind(docs, "NetworkPolicy")[name]["spec"]["ingress"] = [{}]


NETWORK_MUTATIONS = {
    "classifier policy removed": lambda docs: _drop(docs, "NetworkPolicy", "tfidf-svc"),
    "database egress for all": lambda docs: of_kind(docs, "NetworkPolicy")["review-db-egress"]["spec"].update(
        podSelector={}
    ),
    "web interface open": lambda docs: _open_ingress(docs, "web-interface"),
    "agent open": lambda docs: _open_ingress(docs, "agent"),
}


@pytest.mark.parametrize("mutation", NETWORK_MUTATIONS)
def test_the_network_matrix_sees_a_changed_policy(rendered, mutation):
    docs = documents(rendered["staging"].read_text())
    NETWORK_MUTATIONS[mutation](docs)
    assert reachable(docs) != ALLOWED


def test_the_request_rate_autoscaling_component_replaces_the_agents_cpu_autoscaler(tmp_path):
    root = Path(os.path.relpath(K8S, tmp_path))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [str(root / "overlays" / "production")],
                "components": [str(root / "components" / "agent-request-rate")],
            }
        )
    )
    docs = documents(manifests.render(tmp_path))
    assert "agent" not in of_kind(docs, "HorizontalPodAutoscaler")
    scaled = of_kind(docs, "ScaledObject")["agent"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == "agent"
    assert {trigger["type"] for trigger in scaled["triggers"]} == {"prometheus", "cpu"}
    assert "callcenterai_requests_total" in scaled["triggers"][0]["metadata"]["query"]


def test_the_readme_creates_every_secret_key_the_pods_mount_before_the_apply(rendered):
    readme = (PROJECT_ROOT / "README.md").read_text()
    mounted = {
        item["key"]
        for spec in of_kind(documents(rendered["production"].read_text()), "Deployment").values()
        for volume in spec["spec"]["template"]["spec"].get("volumes", [])
        for item in volume.get("secret", {}).get("items", [])
    }
    create = readme.index("kubectl create secret generic callcenterai-secrets")
    assert create < readme.index("kubectl apply -k deploy/k8s/overlays/staging")
    assert mounted and all(f"--from-file=secrets/{key}" in readme[create:] for key in mounted)
    assert "no cluster" in readme.lower()
