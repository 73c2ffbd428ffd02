"""Registry fixtures: real runs in a real MLflow store (sqlite, or a real server over HTTP)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from callcenterai.config import EvaluateParams, PrepareParams, TrainTfidfParams
from callcenterai.stages.evaluate import run_evaluate
from callcenterai.stages.prepare import run_prepare
from callcenterai.stages.train_tfidf import run_train_tfidf
from tests.conftest import sqlite_uri

GOOD = TrainTfidfParams(calibration_folds=3, min_df=1)
# A far weaker model: what the promotion gate must stop.
WORSE = TrainTfidfParams(calibration_folds=3, min_df=1, C=0.0005, max_features=40)


def train_and_evaluate(folder: Path, processed: Path, params: TrainTfidfParams, tag: str) -> dict:
    model_dir = folder / f"model_{tag}"
    card = run_train_tfidf(processed / "train.csv", model_dir, params)
    run_evaluate({"tfidf": model_dir}, processed / "test.csv", folder / f"eval_{tag}", EvaluateParams())
    return {"card": card, "model_dir": model_dir}


def build_store(folder: Path, sample_csv: Path, monkeypatch, uri: str) -> dict:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    processed = folder / "processed"
    run_prepare(sample_csv, processed, PrepareParams())
    good = train_and_evaluate(folder, processed, GOOD, "good")
    worse = train_and_evaluate(folder, processed, WORSE, "worse")
    return {"uri": uri, "processed": processed, "good": good, "worse": worse, "folder": folder}


@pytest.fixture(scope="session")
def store_template(tmp_path_factory, sample_frame):
    """Two evaluated runs (good, then worse) in a sqlite store, trained once per session."""
    folder = tmp_path_factory.mktemp("store-template")
    raw = folder / "raw.csv"
    sample_frame.to_csv(raw, index=False)
    with pytest.MonkeyPatch.context() as patch:
        return build_store(folder, raw, patch, sqlite_uri(folder))


@pytest.fixture()
def store(store_template, tmp_path, monkeypatch):
    """A private copy of the template's store (its database; the runs' artifacts and model
    folders are shared and only read), with the promotion lock file in tmp."""
    monkeypatch.setattr("callcenterai.registry.promotion.PROJECT_ROOT", tmp_path)
    shutil.copy(store_template["folder"] / "mlflow.db", tmp_path / "mlflow.db")
    uri = sqlite_uri(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return {**store_template, "uri": uri}


@pytest.fixture()
def fresh_store(tmp_path, sample_csv, monkeypatch):
    """A store of its own, artifacts included, for a test that changes artifacts."""
    monkeypatch.setattr("callcenterai.registry.promotion.PROJECT_ROOT", tmp_path)
    return build_store(tmp_path, sample_csv, monkeypatch, sqlite_uri(tmp_path))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_mlflow_server(folder: Path, *extra: str, env: dict | None = None):
    """A real `mlflow server` (through scripts/mlflow_server.py) on a free loopback port."""
    port = free_port()
    log_path = folder / f"server-{port}.log"
    log = open(log_path, "w")
    command = [sys.executable, "scripts/mlflow_server.py", "--port", str(port)]
    command += [
        "--backend-store-uri",
        sqlite_uri(folder),
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    process = subprocess.Popen(
        [*command, *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PATH": path, **(env or {})},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("mlflow server did not start: " + log_path.read_text()[-2000:])
    try:
        yield url
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()


@pytest.fixture()
def mlflow_server(tmp_path):
    """A real `mlflow server` on a free loopback port, stopped after the test."""
    with running_mlflow_server(tmp_path) as url:
        yield url
