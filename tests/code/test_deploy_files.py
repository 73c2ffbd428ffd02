"""Dockerfiles and compose files, checked statically (no Docker engine on the test machines)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from callcenterai.config import PROJECT_ROOT

DOCKERFILES = sorted(PROJECT_ROOT.glob("services/*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_passes_hadolint_and_runs_as_non_root(dockerfile):
    # The venv's bin folder is not on PATH when pytest runs as .venv/bin/python -m pytest.
    hadolint = shutil.which(
        "hadolint", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    assert hadolint, "hadolint is installed by requirements-dev.txt"
    result = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "API_KEY=" not in text.replace("CALLCENTERAI_API_KEY", "")


def test_compose_file_keeps_ports_on_loopback_and_secrets_in_files():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this host"
        assert "healthcheck" in service and "limits" in service["deploy"]["resources"], name
        for key, value in service.get("environment", {}).items():
            if "KEY" in key or "SECRET" in key or "PASSWORD" in key:
                # A secret's value never: only where its file is mounted (PostgreSQL's and Grafana's *_FILE).
                assert key.endswith("_FILE") and str(value).startswith("/run/secrets/"), f"{name}.{key}"
    assert all(set(spec) == {"file"} for spec in compose["secrets"].values())  # files, not environment
    expected = {
        "agent": 8000,
        "tfidf_svc": 8001,
        "transformer_svc": 8002,
        "web_interface": 8080,
        "mlflow": 5000,
    }
    for name, port in expected.items():  # DESIGN.md's ports by default, and inside the stack
        (published,) = compose["services"][name]["ports"]
        assert published.endswith(f":-{port}}}:{port}"), published
    assert compose["services"]["agent"]["environment"]["TFIDF_URL"] == "http://tfidf_svc:8001"
    assert "ports" not in compose["services"]["review-db"]  # reached inside the stack only


def test_the_agent_image_carries_no_model_library_and_only_mlflows_client():
    requirements = (PROJECT_ROOT / "services/agent/requirements.txt").read_text().lower()
    names = {line.split("==")[0].strip() for line in requirements.splitlines() if "==" in line}
    assert {"presidio-analyzer", "py3langid", "aiohttp", "httpx"} <= names  # presidio imports httpx
    assert not names & {
        "torch",
        "transformers",
        "onnxruntime",
        "scikit-learn",
        "mlflow",  # the full server and UI; the routing policy needs only mlflow-skinny's client
    }, names


def test_the_agent_runs_without_what_its_image_lacks():
    """The agent in a fresh process where the model libraries cannot be imported, as in its image.

    Here they are installed (the pipeline needs them), and spaCy's thinc imports torch
    whenever it can; blocking them shows the agent neither needs nor loads them.
    """
    absent = ["torch", "transformers", "onnxruntime", "sklearn", "mlflow", "scipy", "pandas", "dvc", "skops"]
    probe = (
        f"import sys\nfor name in {absent!r}: sys.modules[name] = None\n"
        "from fastapi.testclient import TestClient\n"
        "import services.agent.app as agent\n"
        "with TestClient(agent.app) as client:\n"
        "    body = client.post('/redact', json={'text': 'mail jane@corp.example.com'}).json()\n"
        "print(body['text'])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "mail <EMAIL>"


def test_transformer_service_image_installs_neither_torch_nor_transformers():
    requirements = (PROJECT_ROOT / "services/transformer_svc/requirements.txt").read_text().lower()
    names = {line.split("==")[0].strip() for line in requirements.splitlines() if "==" in line}
    assert {"onnxruntime", "tokenizers"} <= names
    assert not names & {"torch", "transformers", "scikit-learn", "dvc"}, names


def test_tfidf_image_compiles_the_c_kernel_in_a_build_stage():
    text = (PROJECT_ROOT / "services/tfidf_svc/Dockerfile").read_text()
    build, served = text.split("\nFROM ${BUILDER_IMAGE} AS kernel\n")[1].split("\nFROM ")
    assert "build_ext --inplace" in build and "gcc" in build
    assert "COPY --from=kernel /kernel/ /app/callcenterai/models/" in served
    assert "gcc" not in served  # no compiler in the served image
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert "**/*.so" in ignored  # a kernel built on the host never slips into an image


def test_service_requirements_name_no_model_unpickler():
    """Loading a served model reads arrays, JSON and ONNX: no service asks for a model unpickler."""
    for service in ("tfidf_svc", "transformer_svc"):
        text = (PROJECT_ROOT / f"services/{service}/requirements.txt").read_text().lower()
        names = {line.split("==")[0].strip() for line in text.splitlines() if "==" in line}
        assert not names & {"scikit-learn", "skops", "joblib", "cloudpickle"}, (service, names)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_healthcheck_probes_readiness_not_liveness(dockerfile):
    check = dockerfile.read_text().split("HEALTHCHECK", 1)[1].split("\nCMD", 1)[0]
    if (
        dockerfile.parent.name == "mlflow"
    ):  # MLflow has no readiness endpoint: /health answers once the store is open
        assert "/health" in check
    else:
        assert "/ready" in check and "/health" not in check


def pins(path: Path) -> dict[str, str]:
    """name -> version of each ``name==version`` line (extras and hash continuations left out)."""
    found = {}
    for line in path.read_text().lower().splitlines():
        if "==" in line and not line.startswith(("#", " ")):
            name, version = line.split("==", 1)
            found[name.split("[")[0].strip()] = version.split()[0].rstrip("\\").strip()
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_an_image_installs_its_hash_pinned_lock_which_follows_its_requirements(dockerfile):
    folder = dockerfile.parent
    lock = (folder / "requirements.lock").read_text()
    wanted, locked = pins(folder / "requirements.txt"), pins(folder / "requirements.lock")
    # A requirements.txt changed without `python scripts/build_images.py --lock` shows here.
    assert {name: locked.get(name) for name in wanted} == wanted
    pinned = [line for line in lock.splitlines() if "==" in line and not line.startswith(("#", " "))]
    assert len(pinned) > len(wanted) and all(line.endswith(" \\") for line in pinned)  # hash lines follow
    assert lock.count("--hash=sha256:") >= len(pinned)
    text = dockerfile.read_text()
    assert f"COPY services/{folder.name}/requirements.lock" in text
    assert "--require-hashes --no-deps" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_an_images_bases_default_to_a_digest_pinned_public_image(dockerfile):
    defaults = [
        line.split("=", 1)[1]
        for line in dockerfile.read_text().splitlines()
        if line.startswith("ARG ") and line.split("=", 1)[0] in ("ARG BASE_IMAGE", "ARG BUILDER_IMAGE")
    ]
    assert len(defaults) == 2 and all(
        re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", d) for d in defaults
    )
    assert all(
        line.startswith("FROM ${") for line in dockerfile.read_text().splitlines() if line.startswith("FROM ")
    )


WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "ci.yml"


def test_the_workflow_uses_actions_on_a_supported_node():
    """checkout@v4 and setup-python@v5 run on Node 20, past its removal date on GitHub's runners.
    Actions are pinned by commit, so the version is read from the comment beside the pin."""
    pins = re.findall(r"uses: ([\w./-]+)@[0-9a-f]{40} # v(\d+)", WORKFLOW.read_text())
    majors = {action: int(major) for action, major in pins}
    assert majors["actions/checkout"] >= 5 and majors["actions/setup-python"] >= 6


def test_the_workflow_gets_its_data_from_a_remote_named_by_secrets(tmp_path):
    text = WORKFLOW.read_text()
    assert "../shared" not in text and "secrets.DVC_REMOTE_URL" in text
    script = PROJECT_ROOT / ".ci" / "configure_dvc_remote.sh"
    (tmp_path / ".dvc").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_REMOTE")}
    missing = subprocess.run(["bash", str(script), str(tmp_path)], env=env, capture_output=True, text=True)
    assert missing.returncode == 1
    assert missing.stdout.strip().splitlines() == [
        "::error::DVC_REMOTE_URL is not set: add it (and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) as "
        "repository secrets; see README, 'CI on GitHub'"
    ]
    env["DVC_REMOTE_URL"] = "s3://bucket/dvc"
    done = subprocess.run(["bash", str(script), str(tmp_path)], env=env, capture_output=True, text=True)
    assert done.returncode == 0
    assert "remote = ci" in (tmp_path / ".dvc" / "config.local").read_text()
    assert "url = s3://bucket/dvc" in (tmp_path / ".dvc" / "config.local").read_text()


def test_the_stacks_review_store_is_postgresql_with_no_password_in_a_url():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    database = compose["services"]["review-db"]
    assert "ports" not in database  # reached only inside the stack
    for name in ("agent", "web_interface"):
        environment = compose["services"][name]["environment"]
        assert environment["DATABASE_URL"] == "postgresql+psycopg://callcenterai@review-db:5432/reviews"
        # The same secret file: the server's POSTGRES_PASSWORD_FILE, the service's DATABASE_PASSWORD.
        mounted = {secret["target"]: secret["source"] for secret in compose["services"][name]["secrets"]}
        assert mounted["DATABASE_PASSWORD"] == "review_db_password" and "PGPASSWORD" not in environment
        assert database["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/review_db_password"
        assert compose["services"][name]["depends_on"]["review-db"]["condition"] == "service_healthy"
