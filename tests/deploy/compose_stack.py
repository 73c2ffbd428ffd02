"""docker-compose.yml run by podman-compose for the tests: a project of its own, loopback ports, secrets.

Debian's podman (4.3) has no systemd here to run health checks on a timer, and
podman-compose ignores ``condition: service_healthy`` before podman 4.6. So the
stack is started the way compose would start it: in the order its ``depends_on``
gives, each group once the one before is healthy, and the health checks the
compose file declares are run by ``podman healthcheck run`` until they pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.images import podman_env

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
# Host port variable of each service the tests reach (the compose file publishes them on 127.0.0.1).
PORT_VARIABLES = {
    "mlflow": "MLFLOW_PORT",
    "tfidf_svc": "TFIDF_PORT",
    "transformer_svc": "TRANSFORMER_PORT",
    "agent": "AGENT_PORT",
    "web_interface": "WEB_PORT",
    "prometheus": "PROMETHEUS_PORT",
    "grafana": "GRAFANA_PORT",
}


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def start_order(services: list[str]) -> list[list[str]]:
    """The services in groups: each group depends only on those before it (compose's start order)."""
    needs = {name: set(compose_services()[name].get("depends_on", {})) for name in services}
    groups, started = [], set()
    while len(started) < len(services):
        group = sorted(name for name in services if name not in started and needs[name] <= started)
        if not group:
            pytest.fail(f"depends_on has a cycle or names a service left out: {needs}")
        groups.append(group)
        started.update(group)
    return groups


@dataclass
class ComposeStack:
    project: str
    variables: dict[str, str]
    log: Path
    started: list[str] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.variables[PORT_VARIABLES[service]]}"

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "podman-compose"), "-p", self.project]
        command += ["-f", str(COMPOSE_FILE), *args]
        with open(self.log, "a") as log:
            log.write(f"\n$ {' '.join(command)}\n")
            log.flush()
            return subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env={**podman_env(), **self.variables},
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )

    def up(self, services: list[str]) -> None:
        result = self.compose("up", "-d", "--no-deps", *services)
        assert result.returncode == 0, self.log.read_text()[-4000:]
        self.started += services

    def containers(self) -> dict[str, str]:
        """Service name -> container name, for the project's containers."""
        listed = podman(
            "ps", "-a", "--filter", f"label=io.podman.compose.project={self.project}", "--format", "json"
        )
        return {c["Labels"]["com.docker.compose.service"]: c["Names"][0] for c in json.loads(listed or "[]")}

    def wait_healthy(self, services: list[str], seconds: float) -> None:
        """Run each service's health check until it passes; fail with its log when one exits or time is up."""
        waiting, deadline = set(services), time.monotonic() + seconds
        while waiting:
            names = self.containers()
            for service in sorted(waiting):
                if _health_check_passes(names[service]):
                    waiting.discard(service)
            if waiting and time.monotonic() > deadline:
                logs = {s: podman("logs", "--tail", "40", names[s], check=False) for s in waiting}
                pytest.fail(f"not healthy within {seconds:.0f} s: {sorted(waiting)}\n{logs}")
            if waiting:
                time.sleep(1)


def _health_check_passes(container: str) -> bool:
    state = podman("inspect", "--format", "{{.State.Status}}", container).strip()
    if state == "exited":
        pytest.fail(f"{container} exited:\n{podman('logs', '--tail', '60', container, check=False)}")
    return podman("healthcheck", "run", container, check=False, status=True) == "0"


def podman(*args: str, check: bool = True, status: bool = False) -> str:
    """podman's stdout (its exit status as text with ``status``), with the project's settings."""
    result = subprocess.run(["podman", *args], env=podman_env(), capture_output=True, text=True, timeout=120)
    if status:
        return str(result.returncode)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout + ("" if check else result.stderr)


def leftovers(project: str) -> dict[str, list[str]]:
    """What podman still holds of a compose project: containers, its pod, networks, volumes."""
    label = f"label=io.podman.compose.project={project}"
    found = {
        "containers": podman("ps", "-a", "--filter", label, "--format", "{{.Names}}").split(),
        "networks": podman("network", "ls", "--filter", label, "--format", "{{.Name}}").split(),
        "volumes": podman("volume", "ls", "--filter", label, "--format", "{{.Name}}").split(),
    }
    # By name too: anything made for the project carries its name, labelled or not.
    found["containers"] += [n for n in podman("ps", "-a", "--format", "{{.Names}}").split() if project in n]
    found["networks"] += [n for n in podman("network", "ls", "--format", "{{.Name}}").split() if project in n]
    found["volumes"] += [v for v in podman("volume", "ls", "--format", "{{.Name}}").split() if project in v]
    found["pods"] = [p for p in podman("pod", "ls", "--format", "{{.Name}}").split() if project in p]
    return {kind: sorted(set(names)) for kind, names in found.items()}
