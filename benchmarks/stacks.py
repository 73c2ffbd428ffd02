"""The two stacks as context managers for benchmarks: each yields (agent URL, agent client key).

The process stack is `scripts/stack.py` over this project's store; the compose stack is
docker-compose.yml under podman-compose, started as tests/deploy/test_compose.py starts it
(group by group in depends_on order, health checks run until they pass: podman 4.3 has no
timer for them), with this project's production models published to its MLflow.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from pathlib import Path

from tests.deploy.compose_stack import PORT_VARIABLES, ComposeStack, compose_services, start_order
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
PORT_OFFSET = 30000
STANDINS = {
    "POSTGRES_IMAGE": "localhost/callcenterai/standin-postgres:dev",
    "PROMETHEUS_IMAGE": "localhost/callcenterai/standin-prometheus:dev",
}


def _run(*args: str) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


@contextlib.contextmanager
def process_stack_agent(state: Path):
    stack = ["scripts/stack.py", "--state", str(state), "--port-offset", str(PORT_OFFSET)]
    _run(*stack, "up")
    try:
        key = (state / "secrets" / "agent_client_key").read_text().strip()
        yield f"http://127.0.0.1:{8000 + PORT_OFFSET}", key
    finally:
        _run(*stack, "down")


@contextlib.contextmanager
def compose_stack_agent(folder: Path):
    """Needs the images (scripts/build_images.py) and the stand-ins tests/deploy/test_compose.py builds."""
    secrets = folder / "secrets"
    _run("scripts/make_secrets.py", "--dir", str(secrets))
    variables = {
        **{variable: str(free_port()) for variable in PORT_VARIABLES.values()},
        "CALLCENTERAI_REGISTRY": "localhost/callcenterai",
        "CALLCENTERAI_TAG": "dev",
        "SECRETS_DIR": str(secrets),
        **STANDINS,
    }
    stack = ComposeStack(f"ccbench{uuid.uuid4().hex[:8]}", variables, folder / "compose.log")
    try:
        for group in start_order([name for name in compose_services() if name != "grafana"]):
            stack.up(group)
            stack.wait_healthy(group, seconds=300)
            if "mlflow" in group:
                _run("scripts/mlflow_registry.py", "publish", "--to", stack.url("mlflow"))
        yield stack.url("agent"), (secrets / "agent_client_key").read_text().strip()
    finally:
        stack.compose("down", "-v", timeout=300)
