"""The same registry flow against a real `mlflow server` over HTTP."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callcenterai.models.loading import load_model
from callcenterai.registry.promotion import Registry
from tests.conftest import run_script
from tests.registry.conftest import build_store


def test_register_promote_and_load_over_http(mlflow_server, tmp_path, sample_csv, monkeypatch):
    monkeypatch.setattr("callcenterai.registry.promotion.PROJECT_ROOT", tmp_path)
    store = build_store(tmp_path / "work", sample_csv, monkeypatch, mlflow_server)
    env = {"MLFLOW_TRACKING_URI": mlflow_server}
    assert run_script("scripts/mlflow_registry.py", "register", env=env).returncode == 0
    promoted = run_script("scripts/mlflow_registry.py", "production", env=env)
    assert promoted.returncode == 0, promoted.stderr
    registry = Registry("tfidf")
    assert [(v.version, v.aliases, v.current_stage) for v in registry.versions()] == [
        ("1", ("production",), "Production")
    ]
    texts = pd.read_csv(store["processed"] / "test.csv").text.tolist()
    loaded = load_model("models:/callcenterai-tfidf-classifier@production")
    local = load_model(store["worse"]["model_dir"])
    assert np.abs(loaded.predictor.predict_proba(texts) - local.predictor.predict_proba(texts)).max() < 1e-12
