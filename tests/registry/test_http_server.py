"""The same registry flow against a real `mlflow server` over HTTP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT
from callcenterai.registry.loading import load_model
from callcenterai.registry.promotion import Registry
from tests.helpers import build_store, run_script, running_mlflow_server

REGISTRY_SCRIPT = PROJECT_ROOT / "scripts" / "mlflow_registry.py"


def test_register_promote_and_load_over_http(mlflow_server, tmp_path, sample_csv, monkeypatch):
    monkeypatch.setattr("callcenterai.registry.promotion.PROJECT_ROOT", tmp_path)
    store = build_store(tmp_path / "work", sample_csv, monkeypatch, mlflow_server)
    env = {"MLFLOW_TRACKING_URI": mlflow_server}
    assert run_script(REGISTRY_SCRIPT, "register", cwd=tmp_path, env=env).returncode == 0
    promoted = run_script(REGISTRY_SCRIPT, "production", cwd=tmp_path, env=env)
    assert promoted.returncode == 0, promoted.stderr
    registry = Registry("tfidf")
    assert [(v.version, v.aliases, v.current_stage) for v in registry.versions()] == [
        ("1", ("production",), "Production")
    ]
    texts = pd.read_csv(store["processed"] / "test.csv").text.tolist()
    loaded = load_model("models:/callcenterai-tfidf-classifier@production")
    local = load_model(store["worse"]["model_dir"])
    assert np.abs(loaded.predictor.predict_proba(texts) - local.predictor.predict_proba(texts)).max() < 1e-12


@pytest.mark.slow  # runs a pipeline or starts servers
def test_an_authenticated_server_refuses_anonymous_clients_and_serves_its_users(tmp_path):
    import secrets

    import httpx

    password = secrets.token_urlsafe(16)
    secrets_env = {
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
    }
    auth = ["--auth", "--auth-db", str(tmp_path / "users.db")]
    with running_mlflow_server(tmp_path, *auth, env=secrets_env) as url:
        search = f"{url}/api/2.0/mlflow/registered-models/search"
        assert httpx.get(search).status_code == 401
        assert httpx.get(search, auth=("admin", "wrong-" + password)).status_code == 401
        assert httpx.get(search, auth=("admin", password)).status_code == 200
        client_env = {"MLFLOW_TRACKING_URI": url, "MLFLOW_TRACKING_USERNAME": "admin"}
        anonymous = run_script("scripts/mlflow_registry.py", "list", env=client_env)
        assert anonymous.returncode != 0
        user = run_script(
            "scripts/mlflow_registry.py", "list", env={**client_env, "MLFLOW_TRACKING_PASSWORD": password}
        )
        assert user.returncode == 0 and "has no versions yet" in user.stdout, user.stderr
    assert password not in (tmp_path / "users.ini").read_text()


def test_the_server_refuses_to_listen_beyond_loopback_without_authentication():
    result = run_script("scripts/mlflow_server.py", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: refusing to serve the store on 0.0.0.0 without authentication: pass --auth (MLflow "
        "basic-auth) or --behind-proxy when an authenticating proxy fronts it"
    ]
    missing = run_script("scripts/mlflow_server.py", "--auth", env={"MLFLOW_AUTH_ADMIN_PASSWORD": ""})
    assert missing.returncode == 2 and "--auth needs MLFLOW_AUTH_ADMIN_PASSWORD" in missing.stderr
