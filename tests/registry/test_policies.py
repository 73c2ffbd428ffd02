"""Routing policies in a real MLflow store (sqlite in tmp), and the agent reading them from there."""

from __future__ import annotations

import pytest

from callcenterai.agent.policy_source import RegistryPolicySource
from callcenterai.registry.experiments import ensure_experiment
from callcenterai.registry.policies import download_policy, find_policies, log_policy
from callcenterai.registry.store import RegistryError
from callcenterai.routing.policy import FittedModel, PolicyError
from tests.helpers import policy, sqlite_uri


def fitted_for(tfidf: str, transformer: str) -> dict:
    return {
        kind: FittedModel(name=kind, fingerprint=print_, trained_at="t", training_data_md5="m")
        for kind, print_ in (("tfidf", tfidf), ("transformer", transformer))
    }


@pytest.fixture()
def store(tmp_path):
    return sqlite_uri(tmp_path)  # artifacts go beside its database


def logged(store, tmp_path, name: str, fitted_at: str, tfidf: str, transformer: str):
    folder = tmp_path / name
    folder.mkdir()
    policy(fitted_for=fitted_for(tfidf, transformer), fitted_at=fitted_at).write(folder)
    return log_policy(store, folder, name)


def test_a_policy_is_found_by_the_models_it_was_fitted_for(store, tmp_path):
    old = logged(store, tmp_path, "old", "2026-12-01T00:00:00+00:00", "t1", "r1")
    assert list((tmp_path / "mlartifacts" / "callcenterai-routing").rglob("policy.json"))
    new = logged(store, tmp_path, "new", "2026-12-02T00:00:00+00:00", "t2", "r1")
    assert [p.run_id for p in find_policies(store, {"tfidf": "t1", "transformer": "r1"})] == [old.run_id]
    assert [p.run_id for p in find_policies(store, {"tfidf": "t2", "transformer": "r1"})] == [new.run_id]
    assert find_policies(store, {"tfidf": "t3", "transformer": "r1"}) == []
    assert download_policy(store, old).fitted_at == "2026-12-01T00:00:00+00:00"


def test_logging_the_same_policy_twice_keeps_one_run(store, tmp_path):
    first = logged(store, tmp_path, "p", "2026-12-01T00:00:00+00:00", "t1", "r1")
    again = log_policy(store, tmp_path / "p", "again")
    assert again.run_id == first.run_id
    assert len(find_policies(store, {"tfidf": "t1"}, limit=10)) == 1


def test_a_policy_file_changed_after_logging_is_refused(store, tmp_path):
    stored = logged(store, tmp_path, "p", "2026-12-01T00:00:00+00:00", "t1", "r1")
    tampered = stored.__class__(stored.run_id, stored.fitted_at, stored.fingerprints, "0" * 64)
    with pytest.raises(RegistryError, match="differs from what was logged"):
        download_policy(store, tampered)


def test_the_agent_source_takes_the_policy_for_the_served_models(store, tmp_path):
    logged(store, tmp_path, "old", "2026-12-01T00:00:00+00:00", "t1", "r1")
    logged(store, tmp_path, "new", "2026-12-02T00:00:00+00:00", "t2", "r1")
    source = RegistryPolicySource(store)
    assert source.read({"tfidf": "t1", "transformer": "r1"}, exact=True).fitted_at.startswith("2026-12-01")
    # Nothing known of the backends yet: the newest policy, rather than none.
    assert source.read({}, exact=False).fitted_at.startswith("2026-12-02")
    # A pair nobody fitted: exact refuses (the agent keeps what it has), else the newest.
    with pytest.raises(PolicyError, match="no routing policy for the models the backends serve"):
        source.read({"tfidf": "t9", "transformer": "r9"}, exact=True)
    assert source.read({"tfidf": "t9", "transformer": "r9"}, exact=False).fitted_at.startswith("2026-12-02")


def test_the_agent_source_says_when_the_store_has_no_policy(store):
    with pytest.raises(PolicyError, match="promote the models"):
        RegistryPolicySource(store).read({}, exact=False)


def test_an_unreachable_store_is_a_policy_error_that_names_it():
    source = RegistryPolicySource("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(PolicyError, match="127.0.0.1:9"):
        source.read({}, exact=False)


def test_on_a_server_an_experiment_only_its_host_can_read_is_refused_and_a_new_one_is_proxied(
    mlflow_server,
):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server, mlflow_server)
    # As an experiment made through the host's sqlite store before a server proxied its artifacts.
    client.create_experiment("callcenterai-routing", artifact_location="file:///srv/host-only/mlartifacts")
    with pytest.raises(RegistryError, match="only the host that wrote them can read"):
        ensure_experiment(client, "callcenterai-routing", mlflow_server)
    created = ensure_experiment(client, "callcenterai-new", mlflow_server)
    assert client.get_experiment(created).artifact_location.startswith("mlflow-artifacts:/")
