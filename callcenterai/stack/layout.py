"""Where a process stack lives: the project it serves, its state folder, and its ports."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError

HOST = "127.0.0.1"  # the stack is for this machine only: nothing listens beyond loopback
STATE_FOLDER = ".stack"
# Start order within a wave does not matter; the names are the Prometheus job names too.
DEFAULT_PORTS: dict[str, int] = {
    "mlflow": 5000,
    "prometheus": 9090,
    "web_interface": 8080,
    "tfidf_svc": 8001,
    "transformer_svc": 8002,
    "agent": 8000,
}


class StackError(UserError, RuntimeError):
    """A stack that cannot start, or a setting it cannot use; the message says which service and why."""


def resolve_ports(offset: int = 0, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """The default ports moved by ``offset``, then any service's own port from ``overrides``."""
    unknown = set(overrides or {}) - set(DEFAULT_PORTS)
    if unknown:
        raise StackError(
            f"no service named {', '.join(sorted(unknown))} (services: {', '.join(DEFAULT_PORTS)})"
        )
    ports = {name: port + offset for name, port in DEFAULT_PORTS.items()}
    ports.update(overrides or {})
    bad = {name: port for name, port in ports.items() if not 1 <= port <= 65535}
    if bad:
        raise StackError(f"ports out of range: {bad}")
    if len(set(ports.values())) < len(ports):
        raise StackError(f"two services on one port: {ports}")
    return ports


def parse_port_override(text: str) -> tuple[str, int]:
    """``agent=18000`` -> ("agent", 18000), for ``--port``."""
    name, _, port = text.partition("=")
    if not port.isdigit():
        raise StackError(f"--port {text!r}: expected SERVICE=PORT, e.g. agent=18000")
    return name.strip(), int(port)


class StackLayout(BaseModel):
    """The project whose store and models the stack serves, and the state folder it writes."""

    model_config = ConfigDict(frozen=True)

    project: Path = PROJECT_ROOT
    state: Path = Field(default_factory=lambda: PROJECT_ROOT / STATE_FOLDER)
    ports: dict[str, int] = Field(default_factory=resolve_ports)
    # What the agent routes by: the word "registry" (the policy logged in MLflow) or a policy file.
    routing_policy: str = ""

    @field_validator("project", "state")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return Path(os.path.abspath(path))

    @property
    def store_uri(self) -> str:
        return f"sqlite:///{self.project / 'mlflow.db'}"

    @property
    def artifacts(self) -> Path:
        return self.project / "mlartifacts"

    @property
    def policy(self) -> str:
        return self.routing_policy or str(self.project / "models" / "routing" / "policy.json")

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def secrets(self) -> Path:
        return self.state / "secrets"

    @property
    def pids_file(self) -> Path:
        return self.state / "stack.json"

    @property
    def mlflow_metrics(self) -> Path:
        """MLflow's metrics exporter's files, one per worker process."""
        return self.state / "mlflow-metrics"

    @property
    def reviewers_file(self) -> Path:
        return self.state / "reviewers.txt"

    @property
    def review_db_url(self) -> str:
        return f"sqlite:///{self.state / 'review.db'}"

    def url(self, service: str) -> str:
        return f"http://{HOST}:{self.ports[service]}"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def shown(self, path: Path) -> str:
        """A path as short as it can be said from the current folder (for the printed table)."""
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
