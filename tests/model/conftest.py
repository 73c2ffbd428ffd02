from __future__ import annotations

import pandas as pd
import pytest

from callcenterai.models.loading import load_model_dir
from tests.helpers import QUICK_TRANSFORMER, make_pipeline_project, run_script, sqlite_uri


@pytest.fixture(scope="session")
def full_project(tmp_path_factory, shared_csv):
    """End to end on the real data: `dvc repro` with the project's params, in a temp copy.

    The transformer runs in its quick mode here (an hour of fine-tuning does not belong
    in a test run); the TF-IDF model is trained exactly as the pipeline trains it."""
    raw = pd.read_csv(shared_csv, dtype=str, keep_default_na=False)
    folder = make_pipeline_project(tmp_path_factory.mktemp("full") / "project", raw, QUICK_TRANSFORMER)
    env = {"MLFLOW_TRACKING_URI": sqlite_uri(folder)}
    result = run_script("-m", "dvc", "repro", cwd=folder, env=env, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


@pytest.fixture(scope="session")
def full_model(full_project):
    return load_model_dir(full_project / "models" / "tfidf")


@pytest.fixture(scope="session")
def full_test_split(full_project):
    return pd.read_csv(full_project / "data" / "processed" / "test.csv")
