"""Real services: uvicorn processes over loopback, serving models from the pipeline fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import (
    AGENT_LIMITS,
    API_KEY,
    REVIEWER,
    REVIEWER_PASSWORD,
    WEB_LIMITS,
    agent_env,
    run_script,
    running_mlflow_server,
    running_service,
)


def start_classifier(kind: str, registry_env: dict, folder: Path):
    env = {
        **registry_env,
        "MODEL_CACHE_DIR": str(folder / "cache"),
        "CALLCENTERAI_API_KEY": API_KEY,
        "MAX_TEXT_CHARS": "200",
        "MAX_BATCH_SIZE": "5",
        "MAX_BODY_BYTES": "1000000",
        "LOG_LEVEL": "DEBUG",
    }
    log_path = folder / "service.log"
    with running_service(f"services.{kind}_svc.app:app", env, log_path) as url:
        yield {"url": url, "log": log_path, "env": env, "cache": folder / "cache", "kind": kind}


@pytest.fixture(scope="session")
def transformer_service(registry_env, tmp_path_factory):
    yield from start_classifier("transformer", registry_env, tmp_path_factory.mktemp("transformer_svc"))


@pytest.fixture(params=["tfidf", "transformer"])
def service(request, registry_env):  # registry_env: both services need it, named so the data mark sees it
    """Each classifier service in turn: they share one contract and one serving module."""
    return request.getfixturevalue(f"{request.param}_service")


@pytest.fixture(scope="session")
def tfidf_service(registry_env, tmp_path_factory):
    yield from start_classifier("tfidf", registry_env, tmp_path_factory.mktemp("tfidf_svc"))


# The agent, in front of the two classifier services above.
@pytest.fixture(scope="session")
def policy_copy(trained_project, tmp_path_factory):
    """The policy the fixture pipeline fitted, in a folder tests may break and restore."""
    folder, _ = trained_project
    path = tmp_path_factory.mktemp("policy") / "policy.json"
    shutil.copy(folder / "models" / "routing" / "policy.json", path)
    return path


@pytest.fixture(scope="session")
def agent_service(tfidf_service, transformer_service, policy_copy, tmp_path_factory):
    log = tmp_path_factory.mktemp("agent") / "agent.log"
    folder = log.parent
    env = agent_env(
        policy_copy,
        tfidf_service["url"],
        transformer_service["url"],
        DATABASE_URL=f"sqlite:///{folder / 'review.db'}",
    )
    with running_service("services.agent.app:app", env, log) as url:
        yield {"url": url, "log": log, "policy": policy_copy, "database": folder / "review.db"}


# Champion and challenger: a store of their own, so moving its aliases moves nothing the fixtures above serve.
@pytest.fixture(scope="session")
def published_mlflow(trained_project, registry_env, tmp_path_factory):
    """A real `mlflow server` (artifacts proxied) with the fixture's production models published to
    it; tests that set its challenger or promote in it train and register their own versions."""
    folder, _ = trained_project
    with running_mlflow_server(tmp_path_factory.mktemp("champion-mlflow")) as url:
        result = run_script(
            "scripts/mlflow_registry.py", "publish", "--to", url, cwd=folder, env=registry_env
        )
        assert result.returncode == 0, result.stderr
        yield url


# The web interface, in front of the agent above, with one reviewer and the fixture's MLflow store served.
@pytest.fixture(scope="session")
def reviewers_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("reviewers") / "reviewers.txt"
    result = run_script(
        "scripts/add_reviewer.py", REVIEWER, "--file", path, "--password-stdin", input=REVIEWER_PASSWORD
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="session")
def fixture_mlflow_server(trained_project, registry_env):
    """A real `mlflow server` over the fixture project's store (registered and promoted models)."""
    folder, _ = trained_project
    with running_mlflow_server(folder) as url:
        yield url


@pytest.fixture(scope="session")
def web_service(agent_service, reviewers_file, fixture_mlflow_server, tmp_path_factory):
    log = tmp_path_factory.mktemp("web") / "web.log"
    env = {
        "AGENT_URL": agent_service["url"],
        "DATABASE_URL": f"sqlite:///{agent_service['database']}",
        "REVIEWERS_FILE": str(reviewers_file),
        "SESSION_SECRET": "s" * 40,
        "MLFLOW_TRACKING_URI": fixture_mlflow_server,
        "AGENT_BATCH_SIZE": AGENT_LIMITS["MAX_BATCH_SIZE"],
        # The classify and batch tests and the browser tests call those pages as a visitor; the
        # default (sign-in required) has its own tests in tests/web/test_classify_access.py.
        "CLASSIFY_REQUIRES_LOGIN": "0",
        "COOKIE_SECURE": "0",  # plain HTTP on 127.0.0.1: a Secure cookie would never come back
        # Every test (the fuzzing's made-up sign-ins too) comes from 127.0.0.1; tests/web tests the limit.
        "LOGIN_MAX_FAILURES_PER_CLIENT": "100000",
        **WEB_LIMITS,
    }
    with running_service("services.web_interface.app:app", env, log) as url:
        yield {"url": url, "log": log, "database": agent_service["database"], "env": env}
