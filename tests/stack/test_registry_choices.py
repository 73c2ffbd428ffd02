"""What the stack asks its MLflow server before the classifiers and the agent start: the alias each
classifier serves (production, else staging with a note, else a refusal saying what to run) and the
agent's policy source (the registry's where the store has one, else the project's file)."""

from __future__ import annotations

import httpx
import pytest

from callcenterai.stack import registry
from callcenterai.stack.layout import StackError, StackLayout, resolve_ports
from callcenterai.stack.secrets import ensure_secrets
from callcenterai.stack.services import stack_plan

TFIDF, TRANSFORMER = "callcenterai-tfidf-classifier", "callcenterai-transformer-classifier"


class FakeMlflow:
    """MLflow's REST answers for the aliases in ``aliases`` ((name, alias) pairs) and ``policy_runs``."""

    def __init__(self, aliases: set[tuple[str, str]], policy_runs: int = 0):
        self.aliases, self.policy_runs = aliases, policy_runs

    def __call__(self, method: str, url: str, params=None, json=None, timeout=None) -> httpx.Response:
        if url.endswith("registered-models/alias"):
            found = (params["name"], params["alias"]) in self.aliases
            return httpx.Response(200 if found else 400, json={})
        if url.endswith("experiments/get-by-name"):
            exists = params["experiment_name"] == registry.POLICY_EXPERIMENT and self.policy_runs
            return httpx.Response(200 if exists else 404, json={"experiment": {"experiment_id": "7"}})
        if url.endswith("runs/search"):
            assert json["experiment_ids"] == ["7"]
            return httpx.Response(200, json={"runs": [{}] * self.policy_runs} if self.policy_runs else {})
        return httpx.Response(500)


def _resolved(tmp_path, monkeypatch, fake: FakeMlflow, routing_policy: str = "", policy_file: bool = True):
    monkeypatch.setattr(registry.httpx, "request", fake)
    if policy_file:
        (tmp_path / "models" / "routing").mkdir(parents=True)
        (tmp_path / "models" / "routing" / "policy.json").write_text("{}")
    layout = StackLayout(
        project=tmp_path, state=tmp_path / "s", ports=resolve_ports(), routing_policy=routing_policy
    )
    plan = stack_plan(layout, ensure_secrets(layout.secrets), tmp_path / "p.yml")
    return {spec.name: spec for spec in registry.as_the_registry_says(plan, layout)}


def test_production_versions_are_served_as_they_are(tmp_path, monkeypatch):
    both = {(TFIDF, "production"), (TRANSFORMER, "production")}
    specs = _resolved(tmp_path, monkeypatch, FakeMlflow(both))
    assert specs["transformer_svc"].env["MODEL_URI"] == f"models:/{TRANSFORMER}@production"
    assert specs["transformer_svc"].note == "" and specs["tfidf_svc"].note == ""


def test_a_model_in_staging_only_is_served_from_staging_and_said_so(tmp_path, monkeypatch):
    specs = _resolved(tmp_path, monkeypatch, FakeMlflow({(TFIDF, "production"), (TRANSFORMER, "staging")}))
    assert specs["transformer_svc"].env["MODEL_URI"] == f"models:/{TRANSFORMER}@staging"
    assert "@staging" in specs["transformer_svc"].note and "restart" in specs["transformer_svc"].note
    assert specs["tfidf_svc"].env["MODEL_URI"] == f"models:/{TFIDF}@production"


def test_a_model_with_neither_alias_stops_the_start_with_what_to_run(tmp_path, monkeypatch):
    with pytest.raises(
        StackError, match=r"transformer-classifier has no production.*production --model transformer"
    ):
        _resolved(tmp_path, monkeypatch, FakeMlflow({(TFIDF, "production")}))


def test_the_agent_routes_by_the_registry_policy_where_the_store_has_one(tmp_path, monkeypatch):
    both = {(TFIDF, "production"), (TRANSFORMER, "production")}
    specs = _resolved(tmp_path, monkeypatch, FakeMlflow(both, policy_runs=1), policy_file=False)
    assert specs["agent"].env["ROUTING_POLICY"] == "registry" and "registry" in specs["agent"].note


def test_without_a_policy_in_the_store_the_agent_routes_by_the_projects_file(tmp_path, monkeypatch):
    both = {(TFIDF, "production"), (TRANSFORMER, "production")}
    specs = _resolved(tmp_path, monkeypatch, FakeMlflow(both))
    assert specs["agent"].env["ROUTING_POLICY"] == str(tmp_path / "models" / "routing" / "policy.json")
    with pytest.raises(StackError, match="no routing policy"):
        _resolved(tmp_path / "bare", monkeypatch, FakeMlflow(both), policy_file=False)


def test_a_chosen_policy_source_is_kept(tmp_path, monkeypatch):
    both = {(TFIDF, "production"), (TRANSFORMER, "production")}
    specs = _resolved(
        tmp_path, monkeypatch, FakeMlflow(both, policy_runs=1), routing_policy="/srv/policy.json"
    )
    assert specs["agent"].env["ROUTING_POLICY"] == "/srv/policy.json"


def test_an_mlflow_that_fails_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setattr(registry.httpx, "request", lambda *args, **kwargs: httpx.Response(503))
    layout = StackLayout(project=tmp_path, state=tmp_path / "s", ports=resolve_ports())
    plan = stack_plan(layout, ensure_secrets(layout.secrets), tmp_path / "p.yml")
    with pytest.raises(StackError, match="failed \\(503\\)"):
        registry.as_the_registry_says(plan, layout)
