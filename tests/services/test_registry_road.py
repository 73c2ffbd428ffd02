"""Every model and the routing policy from the registry: published to a real `mlflow server` with
proxied artifacts, loaded from there by a classifier process, and the agent's policy from the store."""

from __future__ import annotations

import httpx
import pytest

from callcenterai.registry.policies import find_policies
from callcenterai.registry.policy_sync import production_versions, version_fingerprint
from callcenterai.registry.store import RegisteredModel
from tests.helpers import API_KEY, agent_env, run_script, running_mlflow_server, running_service


def production_fingerprints(uri: str) -> dict[str, str]:
    return {kind: version_fingerprint(m, v) for kind, (m, v) in production_versions(uri).items()}


def test_the_production_pair_has_the_routing_policy_fitted_for_it_in_the_store(registry_env):
    # Whatever other tests promoted since (a reload test retrains and promotes TF-IDF), the
    # promotion's policy step left a policy for exactly the pair in production.
    uri = registry_env["MLFLOW_TRACKING_URI"]
    wanted = production_fingerprints(uri)
    found = find_policies(uri, wanted)
    assert found and found[0].fingerprints == wanted


@pytest.fixture(scope="module")
def published(trained_project, registry_env, tmp_path_factory):
    """An empty stack-like MLflow server (artifacts proxied), and the fixture's models published to it."""
    folder, _ = trained_project
    with running_mlflow_server(tmp_path_factory.mktemp("stack-mlflow")) as url:
        result = run_script(
            "scripts/mlflow_registry.py", "publish", "--to", url, cwd=folder, env=registry_env
        )
        assert result.returncode == 0, result.stderr
        yield url, result.stdout


def test_publish_copies_production_and_the_policy_with_proxied_artifacts(published, registry_env):
    url, printed = published
    assert printed.count("now in production") == 2, printed
    source_uri = registry_env["MLFLOW_TRACKING_URI"]
    for kind in ("tfidf", "transformer"):
        target = RegisteredModel(kind, url)
        version = target.alias_version("production")
        assert version is not None
        # Readable by any client of the server, never a path on the host that trained it.
        assert target.artifact_location(version.source).startswith("mlflow-artifacts:/")
        source = RegisteredModel(kind, source_uri)
        assert version.tags["model_dir_sha256"] == source.alias_version("production").tags["model_dir_sha256"]
    assert find_policies(url, production_fingerprints(url))


def test_publishing_again_changes_nothing(published, trained_project, registry_env):
    url, _ = published
    folder, _ = trained_project
    before = {kind: len(RegisteredModel(kind, url).versions()) for kind in ("tfidf", "transformer")}
    result = run_script("scripts/mlflow_registry.py", "publish", "--to", url, cwd=folder, env=registry_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("in production already") == 2, result.stdout
    assert {kind: len(RegisteredModel(kind, url).versions()) for kind in before} == before


def test_a_classifier_started_with_only_the_servers_uri_serves_its_production_model(published, tmp_path):
    url, _ = published
    env = {
        "MLFLOW_TRACKING_URI": url,
        "MODEL_URI": "models:/callcenterai-tfidf-classifier@production",
        "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "CALLCENTERAI_API_KEY": API_KEY,
    }
    production = RegisteredModel("tfidf", url).alias_version("production")
    with running_service("services.tfidf_svc.app:app", env, tmp_path / "tfidf.log") as service:
        answer = httpx.post(f"{service}/predict", json={"text": "my laptop will not start"}).json()
    assert answer["model"]["version"] == production.version


def test_publish_refuses_its_own_store(trained_project, registry_env):
    folder, _ = trained_project
    uri = registry_env["MLFLOW_TRACKING_URI"]
    result = run_script("scripts/mlflow_registry.py", "publish", "--to", uri, cwd=folder, env=registry_env)
    assert result.returncode != 0
    assert "names the store published from" in result.stderr


def test_the_agent_takes_its_policy_from_the_registry(
    registry_env, tfidf_service, transformer_service, tmp_path
):
    env = agent_env(
        "registry",
        tfidf_service["url"],
        transformer_service["url"],
        MLFLOW_TRACKING_URI=registry_env["MLFLOW_TRACKING_URI"],
    )
    with running_service("services.agent.app:app", env, tmp_path / "agent.log") as url:
        described = httpx.get(f"{url}/model", headers={"X-API-Key": API_KEY}).json()
        answer = httpx.post(f"{url}/predict", json={"text": "my laptop will not start"}).json()
    assert described["policy_matches"] == {"tfidf": True, "transformer": True}
    assert "callcenterai-routing" in described["policy_source"]
    assert answer["route"]
