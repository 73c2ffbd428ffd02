"""The whole compose stack, run here by podman-compose from docker-compose.yml as it is committed.

The project's images come from helper fixture ``built_images``; PostgreSQL and
Prometheus from stand-ins built from Debian's packages (deploy/standins/), given
through the compose file's image variables; Grafana cannot run here (no
registry, no Debian package), so it is the one service left out (its files are
checked by test_grafana_provisioning.py). Each run has its own project name,
loopback ports, secrets and volumes, and removes them all.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.images import BASE_IMAGE
from callcenterai.stack.smoke import SERVICE_OPTIONS
from tests.deploy.compose_stack import (
    PORT_VARIABLES,
    ComposeStack,
    compose_services,
    leftovers,
    podman,
    start_order,
)
from tests.helpers import REVIEWER, REVIEWER_PASSWORD, free_port, run_script

pytestmark = pytest.mark.slow

RUN_HERE = [name for name in compose_services() if name != "grafana"]
STANDINS = {"POSTGRES_IMAGE": "postgres", "PROMETHEUS_IMAGE": "prometheus"}
RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "compose_stack.json"
NAMES = {"tfidf": "callcenterai-tfidf-classifier", "transformer": "callcenterai-transformer-classifier"}
# French, no digits or names: the agent flags it (not_english) and redacts nothing of it.
FLAGGED_TICKET = "Bonjour mon imprimante ne fonctionne plus depuis la mise a jour du poste merci de regarder"


@pytest.fixture(scope="module")
def standin_images(built_images):
    """postgres and prometheus stand-ins on the local base: {compose variable: image}.

    Like the project's images they stay after the run (the next run reuses their layers)."""
    images = {}
    for variable, name in STANDINS.items():
        images[variable] = f"localhost/callcenterai/standin-{name}:dev"
        folder = PROJECT_ROOT / "deploy" / "standins" / name
        containerfile = str(folder / "Containerfile")
        podman(
            "build",
            "-q",
            "--build-arg",
            f"BASE_IMAGE={BASE_IMAGE}",
            "-t",
            images[variable],
            "-f",
            containerfile,
            str(folder),
        )
    return images


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory):
    """The stack's secret files, as an operator makes them (make_secrets, a reviewer, make_secrets)."""
    folder = tmp_path_factory.mktemp("compose") / "secrets"
    assert run_script("scripts/make_secrets.py", "--dir", folder).returncode == 0
    added = run_script(
        "scripts/add_reviewer.py",
        REVIEWER,
        "--file",
        folder / "reviewers",
        "--password-stdin",
        input=REVIEWER_PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    assert run_script("scripts/make_secrets.py", "--dir", folder).returncode == 0
    return folder


def _variables(built_images, standin_images, secrets_dir) -> dict[str, str]:
    image = built_images["agent"]  # <registry>/<service>:<tag>, as the compose file composes it
    registry, tag = image.rsplit("/", 1)[0], image.rsplit(":", 1)[1]
    ports = {variable: str(free_port()) for variable in PORT_VARIABLES.values()}
    polls = {"MODEL_POLL_SECONDS": "5", "POLICY_POLL_SECONDS": "5"}
    names = {"CALLCENTERAI_REGISTRY": registry, "CALLCENTERAI_TAG": tag, "SECRETS_DIR": str(secrets_dir)}
    return {**ports, **polls, **names, **standin_images}


def _publish(stack: ComposeStack, source_env: dict) -> float:
    started = time.monotonic()
    published = run_script(
        "scripts/mlflow_registry.py", "publish", "--to", stack.url("mlflow"), env=source_env
    )
    assert published.returncode == 0, published.stdout + published.stderr
    return time.monotonic() - started


@pytest.fixture(scope="module")
def compose_stack(registry_env, built_images, standin_images, secrets_dir, tmp_path_factory):  # noqa: F811
    project = f"cctest{uuid.uuid4().hex[:10]}"
    log = tmp_path_factory.mktemp("compose-log") / "compose.log"
    stack = ComposeStack(project, _variables(built_images, standin_images, secrets_dir), log)
    timings = {}
    try:
        started = time.monotonic()
        for group in start_order(RUN_HERE):
            stack.up(group)
            stack.wait_healthy(group, seconds=300)
            timings[f"healthy: {', '.join(group)}"] = round(time.monotonic() - started, 1)
            if "mlflow" in group:  # a fresh MLflow volume: the models come first, as the README says
                timings["publish (seconds)"] = round(_publish(stack, registry_env), 1)
        timings["all healthy"] = round(time.monotonic() - started, 1)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"project": project, "seconds_from_up": timings}, indent=2) + "\n")
        print(f"\ncompose stack healthy: {timings}")
        yield stack
    finally:
        stack.compose("down", "-v", timeout=300)


def _secret(stack: ComposeStack, name: str) -> str:
    return (Path(stack.variables["SECRETS_DIR"]) / name).read_text().strip()


def _production(stack: ComposeStack, kind: str) -> dict:
    answer = httpx.get(
        f"{stack.url('mlflow')}/api/2.0/mlflow/registered-models/alias",
        params={"name": NAMES[kind], "alias": "production"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["model_version"]


def test_every_service_but_grafana_is_healthy_with_no_secret_in_its_environment(compose_stack):
    containers = compose_stack.containers()
    assert sorted(containers) == sorted(RUN_HERE)
    secrets = [path.read_text().strip() for path in Path(compose_stack.variables["SECRETS_DIR"]).iterdir()]
    for service, container in containers.items():
        assert (
            podman("inspect", "--format", "{{.State.Health.Status}}", container).strip() == "healthy"
        ), service
        environment = podman("inspect", "--format", "{{json .Config.Env}}", container)
        assert not [
            s for s in secrets if s and s in environment
        ], f"{service} has a secret in its environment"


def test_the_models_published_to_the_stacks_mlflow_reach_the_classifier_containers(compose_stack):
    for kind, port_service in (("tfidf", "tfidf_svc"), ("transformer", "transformer_svc")):
        version = _production(compose_stack, kind)
        run = httpx.get(
            f"{compose_stack.url('mlflow')}/api/2.0/mlflow/runs/get", params={"run_id": version["run_id"]}
        )
        # Proxied artifacts: every client, in a container or not, reads them through the server.
        assert run.json()["run"]["info"]["artifact_uri"].startswith("mlflow-artifacts:/")
        key = {"x-client-key": _secret(compose_stack, "backend_client_key")}
        answer = httpx.post(
            f"{compose_stack.url(port_service)}/predict",
            json={"text": "my laptop screen is broken"},
            headers=key,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["model"] == {"name": NAMES[kind], "version": version["version"], "kind": kind}
        assert (
            httpx.post(f"{compose_stack.url(port_service)}/predict", json={"text": "no key"}).status_code
            == 401
        )


def test_a_ticket_sent_to_the_agent_comes_back_classified_with_its_route_and_model_versions(compose_stack):
    key = {"x-client-key": _secret(compose_stack, "agent_client_key")}
    answer = httpx.post(
        f"{compose_stack.url('agent')}/predict",
        json={"text": "please reset my password"},
        headers=key,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["label"] and body["route"]["model"] in ("tfidf", "transformer", "ensemble")
    served = {model["kind"]: model["version"] for model in body["route"]["models"]}
    assert served and all(served[kind] == _production(compose_stack, kind)["version"] for kind in served)
    models = httpx.get(f"{compose_stack.url('agent')}/model", timeout=30).json()
    assert models["policy_matches"] == {"tfidf": True, "transformer": True}, models["warnings"]


class Browser:
    """Keeps the session cookie as a browser does on 127.0.0.1, a secure context where a Secure
    cookie comes back over plain HTTP (Python's cookie jars never send one over http://)."""

    COOKIE = "callcenterai_session"

    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=30, headers={"accept": "text/html"})
        self.session: str | None = None

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"cookie": f"{self.COOKIE}={self.session}"} if self.session else {}
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.client.cookies.clear()
        for cookie in response.headers.get_list("set-cookie"):
            if cookie.startswith(f"{self.COOKIE}="):
                self.session = cookie.split(";", 1)[0].split("=", 1)[1]
        return response

    def csrf(self, path: str) -> str:
        return self.request("GET", path).text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_the_web_page_loads_and_a_signed_in_reviewer_sees_the_flagged_ticket(compose_stack):
    key = {"x-client-key": _secret(compose_stack, "agent_client_key")}
    flagged = httpx.post(
        f"{compose_stack.url('agent')}/predict", json={"text": FLAGGED_TICKET}, headers=key, timeout=30
    )
    assert flagged.json()["needs_review"], flagged.json()
    browser = Browser(compose_stack.url("web_interface"))
    assert browser.request("GET", "/login").status_code == 200
    form = {"name": REVIEWER, "password": REVIEWER_PASSWORD, "csrf_token": browser.csrf("/login")}
    assert browser.request("POST", "/login", data=form).status_code == 303
    deadline = time.monotonic() + 30  # the agent writes flagged tickets off the request path
    while (
        FLAGGED_TICKET not in (page := browser.request("GET", "/review")).text and time.monotonic() < deadline
    ):
        time.sleep(1)
    assert page.status_code == 200 and FLAGGED_TICKET in page.text
    models = browser.request("GET", "/models")
    assert models.status_code == 200 and _production(compose_stack, "tfidf")["version"] in models.text
    assert NAMES["tfidf"] in models.text  # the registry table, from the compose_stack's MLflow


def test_prometheus_reports_every_target_up(compose_stack):
    config = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "compose.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    deadline = time.monotonic() + 90  # a target is up after its first scrape (every 15 s)
    while True:
        targets = httpx.get(f"{compose_stack.url('prometheus')}/api/v1/targets", timeout=30).json()["data"][
            "activeTargets"
        ]
        health = {target["labels"]["job"]: target["health"] for target in targets}
        if set(health) == jobs and set(health.values()) == {"up"} or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert health == {job: "up" for job in jobs}, [t.get("lastError") for t in targets]


def test_prometheus_loads_the_rules_docker_compose_mounts(compose_stack):
    """The rules the promtool tests check are the ones the container evaluates."""
    groups = httpx.get(f"{compose_stack.url('prometheus')}/api/v1/rules", timeout=30).json()["data"]["groups"]
    expected = set()
    for path in (PROJECT_ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            expected |= {rule.get("alert") or rule["record"] for rule in group["rules"]}
    loaded = {rule["name"] for group in groups for rule in group["rules"]}
    assert loaded == expected
    assert {rule.get("health") for group in groups for rule in group["rules"]} <= {"ok", "unknown"}


def test_the_ci_smoke_test_passes_against_the_stack(compose_stack):
    """The staging deploy's smoke test (.github/workflows/ci.yml), rehearsed on this stack."""
    urls = {option: compose_stack.url(service) for option, (service, _) in SERVICE_OPTIONS.items()}
    smoke = run_script(
        "scripts/smoke_test.py",
        *(f"--{option}={url}" for option, url in urls.items()),
        "--agent-key-file",
        Path(compose_stack.variables["SECRETS_DIR"]) / "agent_client_key",
        "--scrape-config",
        PROJECT_ROOT / "deploy" / "prometheus" / "compose.yml",
        "--timeout",
        "120",
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke test passed" in smoke.stdout


def _served_version(stack: ComposeStack, service: str) -> str:
    return httpx.get(f"{stack.url(service)}/model", timeout=30).json()["version"]


def _wait_served(stack: ComposeStack, service: str, version: str) -> str:
    deadline = time.monotonic() + 90  # the stack's MODEL_POLL_SECONDS is 5 here
    while (served := _served_version(stack, service)) != version and time.monotonic() < deadline:
        time.sleep(1)
    return served


def test_moving_production_in_the_stacks_mlflow_reaches_the_containers_with_no_restart(compose_stack):
    from callcenterai.registry.store import TRANSITION_PREFIX, RegisteredModel

    url, env = compose_stack.url("mlflow"), {"MLFLOW_TRACKING_URI": compose_stack.url("mlflow")}
    model = RegisteredModel("tfidf", url)
    current = model.alias_version("production")
    # A second version of the same files: what is tested is the alias moving, not a new model.
    tags = {k: v for k, v in current.tags.items() if not k.startswith(TRANSITION_PREFIX)}
    run = model.client.get_run(current.run_id)
    logged = model.client.search_logged_models(
        experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{current.run_id}'"
    )
    copy = model.client.create_model_version(
        model.name, current.source, run_id=current.run_id, tags=tags, model_id=logged[0].model_id
    )
    container = compose_stack.containers()["tfidf_svc"]
    started = podman("inspect", "--format", "{{.State.StartedAt}}", container)

    moved = run_script("scripts/mlflow_registry.py", "production", "--version", copy.version, env=env)
    assert moved.returncode == 0, moved.stderr
    assert _wait_served(compose_stack, "tfidf_svc", copy.version) == copy.version
    back = run_script("scripts/mlflow_registry.py", "rollback", env=env)
    assert back.returncode == 0, back.stderr
    assert _wait_served(compose_stack, "tfidf_svc", current.version) == current.version
    assert podman("inspect", "--format", "{{.State.StartedAt}}", container) == started  # no restart
    models = httpx.get(f"{compose_stack.url('agent')}/model", timeout=30).json()
    assert models["policy_matches"] == {"tfidf": True, "transformer": True}, models["warnings"]


def test_down_leaves_no_container_network_or_volume_of_the_run(compose_stack):
    assert leftovers(compose_stack.project)["volumes"], "the run made named volumes (the check can see them)"
    assert compose_stack.compose("down", "-v", timeout=300).returncode == 0, compose_stack.log.read_text()[
        -3000:
    ]
    assert leftovers(compose_stack.project) == {"containers": [], "networks": [], "volumes": [], "pods": []}
