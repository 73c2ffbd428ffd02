"""Registry fixtures: real runs in a real MLflow store (sqlite, or a real server over HTTP)."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import build_store, running_mlflow_server, sqlite_uri


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


@pytest.fixture()
def mlflow_server(tmp_path):
    """A real `mlflow server` on a free loopback port, stopped after the test."""
    with running_mlflow_server(tmp_path) as url:
        yield url
