"""What each process of the stack is: its command, its environment, where it says it is ready.

The services get the same variables a deployment would set (docs/settings.md);
only loopback, plain HTTP and the state folder's files make this a development stack.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from callcenterai.config import PROJECT_ROOT
from callcenterai.kinds import kind_named
from callcenterai.stack.layout import HOST, StackLayout

PROMETHEUS_BINARY = "/usr/bin/prometheus"  # Debian's package `prometheus`
# Classifier services check the production alias this often: a promotion reaches them without a restart.
MODEL_POLL_SECONDS = "30"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/ready"
    # Services that must be ready before this one starts.
    after: tuple[str, ...] = ()
    note: str = ""  # what a user should know about how it runs (printed with the table)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ready_url(self) -> str:
        return self.url + self.ready_path


def uvicorn(module: str, port: int) -> tuple[str, ...]:
    app = f"services.{module}.app:app"
    return (sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), "--no-access-log")


def mlflow_spec(layout: StackLayout) -> ServiceSpec:
    port = layout.ports["mlflow"]
    command = (
        sys.executable,
        str(PROJECT_ROOT / "scripts" / "mlflow_server.py"),
        *("--host", HOST, "--port", str(port)),
        *("--backend-store-uri", layout.store_uri, "--artifacts-destination", str(layout.artifacts)),
        *("--expose-prometheus", str(layout.mlflow_metrics)),
    )
    return ServiceSpec("mlflow", port, command, ready_path="/health")


def prometheus_spec(layout: StackLayout, config: Path) -> ServiceSpec:
    port = layout.ports["prometheus"]
    command = (
        PROMETHEUS_BINARY,
        f"--config.file={config}",
        f"--storage.tsdb.path={layout.state / 'prometheus-data'}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address={HOST}:{port}",
    )
    return ServiceSpec("prometheus", port, command, ready_path="/-/ready")


def classifier_spec(layout: StackLayout, kind: str, secrets: dict[str, str]) -> ServiceSpec:
    name = f"{kind}_svc"
    env = {
        "MLFLOW_TRACKING_URI": layout.url("mlflow"),
        "MODEL_URI": f"models:/{kind_named(kind).registered_name}@production",
        "MODEL_CACHE_DIR": str(layout.state / "cache" / name),
        "MODEL_POLL_SECONDS": MODEL_POLL_SECONDS,
        "CALLCENTERAI_API_KEY": secrets["api_key"],
        "CLIENT_KEYS": secrets["backend_client_key"],
    }
    port = layout.ports[name]
    return ServiceSpec(name, port, uvicorn(name, port), env, after=("mlflow",))


def agent_spec(layout: StackLayout, secrets: dict[str, str]) -> ServiceSpec:
    env = {
        "MLFLOW_TRACKING_URI": layout.url("mlflow"),
        "TFIDF_URL": layout.url("tfidf_svc"),
        "TRANSFORMER_URL": layout.url("transformer_svc"),
        "ROUTING_POLICY": layout.policy,
        "DATABASE_URL": layout.review_db_url,
        "REVIEW_SPOOL_PATH": str(layout.state / "review-spool.db"),
        "CALLCENTERAI_API_KEY": secrets["api_key"],
        "CLIENT_KEYS": secrets["agent_client_key"],
        "BACKEND_CLIENT_KEY": secrets["backend_client_key"],
    }
    port = layout.ports["agent"]
    return ServiceSpec("agent", port, uvicorn("agent", port), env, after=("mlflow",))


def web_spec(layout: StackLayout, secrets: dict[str, str]) -> ServiceSpec:
    env = {
        "AGENT_URL": layout.url("agent"),
        "AGENT_CLIENT_KEY": secrets["agent_client_key"],
        "DATABASE_URL": layout.review_db_url,
        "REVIEWERS_FILE": str(layout.reviewers_file),
        "SESSION_SECRET": secrets["session_secret"],
        # Plain HTTP on loopback: clients other than a browser drop a Secure cookie over http://.
        "COOKIE_SECURE": "0",
        "MLFLOW_TRACKING_URI": layout.url("mlflow"),
        "MLFLOW_UI_URL": layout.url("mlflow"),
    }
    port = layout.ports["web_interface"]
    return ServiceSpec("web_interface", port, uvicorn("web_interface", port), env)


def stack_plan(layout: StackLayout, secrets: dict[str, str], prometheus_config: Path) -> list[ServiceSpec]:
    """Every process of the stack, in the order they are listed and started."""
    return [
        mlflow_spec(layout),
        prometheus_spec(layout, prometheus_config),
        web_spec(layout, secrets),
        classifier_spec(layout, "tfidf", secrets),
        classifier_spec(layout, "transformer", secrets),
        agent_spec(layout, secrets),
    ]
