"""Shared fixtures: real data samples, real MLflow stores, real pipeline runs."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT
from tests.helpers import QUICK_PARAMS, RAW_NAME, dvc, make_pipeline_project, run_script, sqlite_uri

# ../shared beside the checkout here; on GitHub the same file, pulled by DVC from the CI remote.
SHARED_CSV = PROJECT_ROOT.parent / "shared" / "data" / RAW_NAME
PULLED_CSV = PROJECT_ROOT / "data" / "raw" / RAW_NAME


@pytest.fixture(scope="module", autouse=True)
def mlflow_uri_as_found():
    """MLflow's set_tracking_uri also writes MLFLOW_TRACKING_URI: a module that trains or publishes
    in-process must not leave it for the next one (the services' settings read it)."""
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if saved is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved


@pytest.fixture(scope="session")
def shared_csv() -> Path:
    for path in (SHARED_CSV, PULLED_CSV):
        if path.is_file():
            return path
    pytest.fail(f"neither {SHARED_CSV} nor {PULLED_CSV} exists: put ../shared beside the project or dvc pull")


@pytest.fixture(scope="session")
def sample_frame(shared_csv) -> pd.DataFrame:
    """A stratified sample of the real tickets: 90 per class."""
    frame = pd.read_csv(shared_csv, dtype=str, keep_default_na=False)
    return frame.groupby("Topic_group", group_keys=False).sample(n=90, random_state=7).reset_index(drop=True)


@pytest.fixture()
def sample_csv(tmp_path, sample_frame) -> Path:
    path = tmp_path / "raw.csv"
    sample_frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, sample_frame):
    """The real pipeline (``dvc repro``) run once on the sample, with its own sqlite MLflow store."""
    folder = make_pipeline_project(
        tmp_path_factory.mktemp("pipeline") / "project", sample_frame, QUICK_PARAMS
    )
    env = {"MLFLOW_TRACKING_URI": sqlite_uri(folder)}
    dvc(folder, env, "repro")
    return folder, env


@pytest.fixture(scope="session")
def registry_env(trained_project):
    """The pipeline fixture's store with its model registered and in production (version 1)."""
    folder, env = trained_project
    # The fixture's transformer is a 240-row quick model: production takes it only when forced.
    forced = ["--force", "--reason", "test fixture: a quick model is all a test run can train"]
    for kind, production in (("tfidf", ["production"]), ("transformer", ["production", *forced])):
        for command in (["register"], production):
            # From the fixture project, as a user would: register takes the run its models/ came from.
            result = run_script("scripts/mlflow_registry.py", *command, "--model", kind, cwd=folder, env=env)
            assert result.returncode == 0 or "already" in result.stderr, result.stderr
    return env


@pytest.fixture(scope="session")
def spark():
    """One SparkSession on two local cores (a JVM) for the Spark batch-scoring tests."""
    from callcenterai.batch.spark_scoring import spark_session

    session = spark_session("local[2]", app_name="callcenterai-tests")
    yield session
    session.stop()


# Fixtures that train models, start servers or run the pipeline: a test that uses one
# is slow, and `pytest -m "not slow"` (the edit-test lane) leaves it out.
SLOW_FIXTURES = {
    "trained_project",
    "spark",
    "full_project",
    "store",
    "store_template",
    "fresh_store",
    "registry_env",
    "service",
    "tfidf_service",
    "transformer_service",
    "mlflow_server",
    "policy_copy",
    "agent_service",
    "fuzzed",
    "fault_backends",
    "reviewers_file",
    "fixture_mlflow_server",
    "web_service",
    "browser_page",
    "built_images",
    "standin_images",
    "compose_stack",
    "team_postgres",
    "team_s3",
    "team_mlflow_server",
    "team_production",
    "fault_stack",
    "drift_model_dir",
    "tiny_models",
    "tiny_service",
    "published_mlflow",
    "challenger_store_template",
}


# Fixtures that read the real tickets (../shared, or data/raw pulled from the DVC remote): a test
# that uses one, itself or through another fixture, is marked data. A fork's pull request gets no
# secrets, so no DVC remote: CI runs `pytest -m "not data"` there (README, "CI on GitHub").
DATA_FIXTURES = {"shared_csv"}


def pytest_configure(config):
    config.addinivalue_line("markers", "data: reads the real tickets (DVC data); a fork's CI leaves it out")


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)
        if DATA_FIXTURES & fixtures:
            item.add_marker(pytest.mark.data)
