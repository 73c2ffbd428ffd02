"""The routing policy follows the registry: a promotion fits one for the new pair, a rollback finds
the old pair's again, on a copy of the reproduced fixture project and its real MLflow store."""

from __future__ import annotations

import re

import yaml

from callcenterai.registry.policies import find_policies
from callcenterai.registry.policy_sync import production_versions, version_fingerprint
from callcenterai.routing.policy import read_policy
from tests.helpers import dvc, run_script

FORCED = ["--force", "--reason", "test: a sample-trained model"]


def registry(folder, env, *args):
    return run_script("scripts/mlflow_registry.py", *args, cwd=folder, env=env)


def in_production(folder, env) -> None:
    """Both fixture models registered and in production, whatever ran before on this store."""
    for kind in ("tfidf", "transformer"):
        result = registry(folder, env, "register", "--model", kind)
        assert result.returncode == 0, result.stderr
        result = registry(folder, env, "production", "--model", kind, *FORCED)
        assert result.returncode == 0 or "already in production" in result.stderr, result.stderr


def policy_for_production(env) -> str:
    uri = env["MLFLOW_TRACKING_URI"]
    wanted = {kind: version_fingerprint(m, v) for kind, (m, v) in production_versions(uri).items()}
    found = find_policies(uri, wanted)
    assert found, f"no policy logged for {wanted}"
    return found[0].run_id


def retrain_tfidf(folder, env) -> None:
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["train_tfidf"]["C"] = 0.05  # another model, so other served files
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(folder, env, "repro", "evaluate")


def test_promotion_fits_a_policy_for_the_new_pair_and_rollback_finds_the_old_one(project_copy):
    folder, env = project_copy
    in_production(folder, env)
    first = policy_for_production(env)

    retrain_tfidf(folder, env)
    assert registry(folder, env, "register", "--model", "tfidf").returncode == 0
    promoted = registry(folder, env, "production", "--model", "tfidf", *FORCED)
    assert promoted.returncode == 0, promoted.stderr
    # models/routing was fitted for the old TF-IDF model: a new policy is fitted on the test split.
    assert "routing policy: fitted a new one" in promoted.stdout, promoted.stdout
    second = policy_for_production(env)
    assert second != first

    rolled = registry(folder, env, "rollback", "--model", "tfidf")
    assert rolled.returncode == 0, rolled.stderr
    assert "routing policy: found the policy already logged" in rolled.stdout, rolled.stdout
    assert policy_for_production(env) == first


def test_the_policy_command_says_why_it_cannot_fit_without_a_test_split(project_copy):
    folder, env = project_copy
    in_production(folder, env)
    retrain_tfidf(folder, env)
    assert registry(folder, env, "register", "--model", "tfidf").returncode == 0
    promoted = registry(folder, env, "production", "--model", "tfidf", *FORCED, "--test-data", "missing.csv")
    # The promotion stands; the policy step says what is missing and what to do.
    assert promoted.returncode == 0, promoted.stderr
    assert "routing policy: not updated" in promoted.stdout and "missing.csv" in promoted.stdout
    result = registry(folder, env, "policy", "--test-data", "missing.csv")
    assert result.returncode != 0
    assert "missing.csv" in result.stderr


def registered_version(folder, env, kind: str) -> str:
    """Register the run that made models/<kind> (or find it registered); its version number."""
    result = registry(folder, env, "register", "--model", kind)
    assert result.returncode == 0, result.stderr
    return re.search(r"version (\d+)", result.stdout).group(1)


def test_a_promotion_logs_the_policy_the_pipeline_fitted_for_the_promoted_models(project_copy):
    from mlflow import MlflowClient

    folder, env = project_copy
    dvc(folder, env, "repro", "fit_routing")  # models/routing fitted for what models/ holds now
    for kind in ("tfidf", "transformer"):
        version = registered_version(folder, env, kind)
        result = registry(folder, env, "production", "--model", kind, "--version", version, *FORCED)
        assert result.returncode == 0 or "already in production" in result.stderr, result.stderr
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("callcenterai-routing")
    for run in client.search_runs([experiment.experiment_id]) if experiment else []:
        client.delete_run(run.info.run_id)  # whatever earlier promotions logged
    result = registry(folder, env, "policy")
    assert result.returncode == 0, result.stderr
    assert "routing policy: logged the pipeline's policy from models/routing" in result.stdout, result.stdout
    logged = find_policies(env["MLFLOW_TRACKING_URI"], {})[0]
    assert logged.fitted_at == read_policy(folder / "models" / "routing").fitted_at
