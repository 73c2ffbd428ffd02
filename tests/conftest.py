"""Shared fixtures: real data samples, real MLflow stores, real pipeline runs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT

RAW_NAME = "all_tickets_processed_improved_v3.csv"
# ../shared beside the checkout here; on GitHub the same file, pulled by DVC from the CI remote.
SHARED_CSV = PROJECT_ROOT.parent / "shared" / "data" / RAW_NAME
PULLED_CSV = PROJECT_ROOT / "data" / "raw" / RAW_NAME


def run_script(
    *args, cwd: Path = PROJECT_ROOT, env: dict | None = None, timeout: int = 600, input: str | None = None
):
    """Run ``python <args>`` as a user would (``input`` on its stdin); returns the CompletedProcess."""
    full_env = {**os.environ, "DVC_NO_ANALYTICS": "1", **(env or {})}
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def load_script(relative: str):
    """A script of the project (``setup_mlops.py``, ``scripts/...``) as a module, to call its helpers."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, PROJECT_ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def sqlite_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def make_pipeline_project(folder: Path, raw: pd.DataFrame, params_overrides: dict | None = None) -> Path:
    """A runnable copy of the project (code, dvc.yaml, params) with its own raw data and git/DVC repos."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("callcenterai", "scripts"):
        shutil.copytree(PROJECT_ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "dvc.yaml", folder / "dvc.yaml")
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    for dotted, value in (params_overrides or {}).items():
        section, key = dotted.split(".")
        params[section][key] = value
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (folder / "data" / "raw").mkdir(parents=True)
    raw.to_csv(folder / "data" / "raw" / RAW_NAME, index=False)
    shutil.copy(PROJECT_ROOT / ".gitignore", folder / ".gitignore")  # the real layout, as committed
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run(git + ["init", "-q"], cwd=folder, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=folder, check=True)
    subprocess.run(git + ["add", "-A"], cwd=folder, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "fixture"], cwd=folder, check=True)
    return folder


# The transformer's quick mode: a real fine-tune (torch, the packaged MiniLM) on a few hundred rows.
QUICK_TRANSFORMER = {
    "train_transformer.max_train_rows": 240,
    "train_transformer.epochs": 1,
    "train_transformer.max_length": 32,
    "train_transformer.batch_size": 16,
    # A model fine-tuned on 240 rows gives near-uniform probabilities, whose argmax int8
    # rounding flips more often; the full model is held to the default 99 %.
    "export_transformer.min_agreement": 0.9,
    "export_transformer.max_accuracy_drop": 0.05,
}
QUICK_PARAMS = {"train_tfidf.calibration_folds": 3, "train_tfidf.min_df": 1, **QUICK_TRANSFORMER}


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, sample_frame):
    """The real pipeline (``dvc repro``) run once on the sample, with its own sqlite MLflow store."""
    folder = make_pipeline_project(
        tmp_path_factory.mktemp("pipeline") / "project", sample_frame, QUICK_PARAMS
    )
    env = {"MLFLOW_TRACKING_URI": sqlite_uri(folder)}
    result = run_script("-m", "dvc", "repro", cwd=folder, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder, env


# Fixtures that train models, start servers or run the pipeline: a test that uses one
# is slow, and `pytest -m "not slow"` (the edit-test lane) leaves it out.
SLOW_FIXTURES = {
    "trained_project",
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
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
