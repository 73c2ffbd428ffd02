"""The smoke test (callcenterai/stack/smoke.py, scripts/smoke_test.py) against a stub stack: it passes
when every answer is right and fails, naming the check, when one is wrong. The real stack's run is
tests/deploy/test_compose.py's."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from callcenterai.stack.smoke import READY_PATHS, SmokeTarget, run_smoke
from tests.helpers import free_port, run_script

KEY = "stub-client-key"
HEALTHY = {
    "ready": 200,
    "predict": {"label": "Hardware", "route": {"model": "tfidf"}},
    "targets": {"agent": "up", "tfidf_svc": "up"},
}


class StubStack(BaseHTTPRequestHandler):
    """Every service of a stack on one port: the answers come from the server's ``state``."""

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's name)
        state = self.server.state
        if self.path in set(READY_PATHS.values()):
            self._send(state["ready"], "{}")
        elif self.path == "/":
            self._send(200, "<html><body>classify</body></html>", "text/html; charset=utf-8")
        elif self.path == "/api/v1/targets":
            targets = [{"labels": {"job": job}, "health": h} for job, h in state["targets"].items()]
            self._send(200, json.dumps({"data": {"activeTargets": targets}}))
        else:
            self._send(404, "{}")

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path != "/predict" or self.headers.get("x-client-key") != KEY:
            self._send(401, '{"detail": "no key"}')
        else:
            self._send(200, json.dumps(self.server.state["predict"]))

    def log_message(self, *args):  # quiet: pytest shows failures, not every request
        pass


@pytest.fixture()
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubStack)
    server.state = dict(HEALTHY)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _urls(server) -> dict[str, str]:
    return {service: f"http://127.0.0.1:{server.server_port}" for service in READY_PATHS}


def _failed(outcomes) -> list[str]:
    return [outcome.check for outcome in outcomes if not outcome.passed]


def test_a_healthy_stack_passes_every_check(stub):
    outcomes = run_smoke(SmokeTarget(_urls(stub), KEY), seconds=0)
    assert _failed(outcomes) == [] and len(outcomes) == len(READY_PATHS) + 3


def test_a_service_that_does_not_answer_fails_by_name_and_the_script_exits_1(stub, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    base = f"http://127.0.0.1:{stub.server_port}"
    options = [f"--{option}={base}" for option in ("agent", "tfidf", "web", "mlflow", "prometheus")]
    result = run_script(
        "scripts/smoke_test.py",
        *options,
        f"--transformer=http://127.0.0.1:{free_port()}",  # nothing listens there
        "--agent-key-file",
        key_file,
        "--timeout",
        "0",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "smoke test failed: transformer_svc ready" in result.stderr
    assert "ok    agent ready" in result.stdout


@pytest.mark.parametrize(
    "broken, failed",
    [
        ({"ready": 503}, [f"{service} ready" for service in READY_PATHS]),
        ({"predict": {"detail": "nothing"}}, ["a ticket through the agent"]),
        ({"targets": {"agent": "up", "tfidf_svc": "down"}}, ["every Prometheus target up"]),
        ({"targets": {}}, ["every Prometheus target up"]),
    ],
)
def test_a_wrong_answer_fails_the_check_that_saw_it(stub, broken, failed):
    stub.state.update(broken)
    assert _failed(run_smoke(SmokeTarget(_urls(stub), KEY), seconds=0)) == failed


def test_a_wrong_client_key_fails_the_prediction(stub):
    assert _failed(run_smoke(SmokeTarget(_urls(stub), "not-the-key"), seconds=0)) == [
        "a ticket through the agent"
    ]


def test_a_job_of_the_scrape_config_with_no_target_fails(stub, tmp_path):
    config = tmp_path / "prometheus.yml"
    config.write_text("scrape_configs:\n  - job_name: agent\n  - job_name: transformer_svc\n")
    outcomes = run_smoke(SmokeTarget(_urls(stub), KEY, config), seconds=0)
    assert _failed(outcomes) == ["every Prometheus target up"]
    assert "missing: ['transformer_svc']" in outcomes[-1].problem
