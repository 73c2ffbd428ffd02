"""Registry behaviour against a real sqlite MLflow store, and the CLI as users type it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT, RegistryParams
from callcenterai.registry.loading import load_model
from callcenterai.registry.promotion import GateUnavailable, Registry
from callcenterai.registry.store import RegistryError
from tests.helpers import load_script, run_script


def cli(store, *args, env: dict | None = None):
    """The registry script as a user types it, from the store's project folder (no models/ there),
    with no review store unless ``env`` names one (not the project's review.db)."""
    script = PROJECT_ROOT / "scripts" / "mlflow_registry.py"
    missing = f"sqlite:///{store['folder'] / 'no-review.db'}"
    env = {"MLFLOW_TRACKING_URI": store["uri"], "DATABASE_URL": missing, **(env or {})}
    return run_script(script, *args, cwd=store["folder"], env=env)


def state(registry):
    return {v.version: (v.aliases, v.current_stage) for v in registry.versions()}


def test_register_is_idempotent_and_tags_the_version(store):
    registry = Registry("tfidf")
    version, created = registry.register()
    assert created and version.version == "1"
    assert version.run_id == store["worse"]["card"].mlflow_run_id  # the newest run
    again, created_again = registry.register()
    assert not created_again and again.version == "1"
    for tag in ("test_macro_f1", "test_accuracy", "params_digest", "training_data_md5", "git_commit"):
        assert tag in version.tags
    first, _ = registry.register(store["good"]["card"].mlflow_run_id)
    assert first.version == "2" and len(registry.versions()) == 2


def test_staging_then_production_keeps_stages_in_step(store):
    registry = Registry("tfidf")
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.stage("1")
    assert state(registry) == {"1": (("staging",), "Staging")}
    registry.promote("1")
    assert state(registry) == {"1": (("production",), "Production")}
    history = [(e.version, e.source, e.target) for e in registry.history()]
    assert history == [("1", "none", "none"), ("1", "none", "staging"), ("1", "staging", "production")]


def test_gate_refuses_a_worse_candidate_and_changes_nothing(store):
    registry = Registry("tfidf", params=RegistryParams(tolerance=0.005))
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.promote("1")
    registry.register(store["worse"]["card"].mlflow_run_id)
    before, history_before = state(registry), registry.history()
    with pytest.raises(
        RegistryError, match=r"gate failed: macro_f1 0\.\d+ is 0\.\d+ below production version 1"
    ):
        registry.promote("2")
    assert state(registry) == before and registry.history() == history_before
    with pytest.raises(RegistryError, match="--force needs --reason"):
        registry.promote("2", force=True)
    registry.promote("2", force=True, reason="incident 42: old vocabulary")
    assert state(registry) == {"1": ((), "Archived"), "2": (("production",), "Production")}
    assert "incident 42" in registry.history()[-2].reason


def test_an_impossible_comparison_blocks_promotion_unless_forced(store):
    """Versions evaluated on different test data and no split to re-score on: the gate
    cannot judge, so it refuses; --force goes ahead and the history says why."""
    from mlflow import MlflowClient

    registry = Registry("tfidf")
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.promote("1")
    registry.register(store["worse"]["card"].mlflow_run_id)
    MlflowClient(store["uri"]).set_model_version_tag(registry.name, "2", "test_data_md5", "another split")
    before = state(registry)
    with pytest.raises(GateUnavailable, match="cannot compare version 2 with production version 1"):
        registry.promote("2")
    assert state(registry) == before
    registry.promote("2", force=True, reason="new split, compared by hand")
    assert state(registry)["2"] == (("production",), "Production")
    note = [e.reason for e in registry.history() if e.version == "2" and e.target == "production"][-1]
    assert note.startswith("forced past gate (no comparison: cannot compare") and "compared by hand" in note


def test_rollback_restores_the_previous_production_version(store):
    registry = Registry("tfidf", params=RegistryParams(tolerance=1.0))
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.register(store["worse"]["card"].mlflow_run_id)
    registry.promote("1")
    registry.promote("2")
    event = registry.rollback("bad answers")
    assert event.version == "1"
    assert state(registry) == {"1": (("production",), "Production"), "2": ((), "Archived")}
    with pytest.raises(RegistryError, match="is in production; promote another"):
        registry.archive("1")


def test_rollback_walks_the_production_history_backwards_and_says_where_it_stops(store):
    registry = Registry("tfidf", params=RegistryParams(tolerance=1.0))
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.register(store["worse"]["card"].mlflow_run_id)
    # Production history 1, 2, 1 (two runs are enough for three production changes).
    registry.promote("1")
    registry.promote("2")
    registry.promote("1", force=True, reason="third production change")
    assert registry.rollback().version == "2"
    assert registry.rollback().version == "1"  # further back, not back to 2 again
    with pytest.raises(RegistryError, match="version 1 is the first in its production history"):
        registry.rollback()
    assert registry.alias_version("production").version == "1"


def test_a_lower_is_better_gate_metric_stops_a_candidate_that_is_higher(store):
    """With ECE as the gate metric, the candidate whose ECE is higher (worse) must be refused."""
    registry = Registry("tfidf", params=RegistryParams(gate_metric="ece", tolerance=0.0))
    good, _ = registry.register(store["good"]["card"].mlflow_run_id)
    worse, _ = registry.register(store["worse"]["card"].mlflow_run_id)
    ece = {v.version: float(v.tags["test_ece"]) for v in (good, worse)}
    low, high = sorted(ece, key=ece.get)
    registry.promote(low)
    with pytest.raises(
        RegistryError, match=rf"gate failed: ece .* above production version {low}'s .*lower is better"
    ):
        registry.promote(high)
    assert registry.alias_version("production").version == low


def test_a_row_capped_version_goes_to_staging_and_to_production_only_when_forced(store):
    registry = Registry("tfidf")
    version, _ = registry.register(store["good"]["card"].mlflow_run_id)
    registry.client.set_model_version_tag(registry.name, version.version, "row_cap", "2000")
    registry.stage(version.version)
    with pytest.raises(
        RegistryError, match="trained on a 2000-row sample .quick mode.; it may go to staging"
    ):
        registry.promote(version.version)
    assert registry.alias_version("production") is None
    event = registry.promote(version.version, force=True, reason="demo")
    assert event.reason == "forced past the 2000-row sample: demo"


def test_register_takes_the_run_that_made_the_model_folder(store):
    """After `dvc exp run` the newest run is the experiment's; register must take the run
    that made the model now in the folder (its card names it)."""
    registry = Registry("tfidf")
    version, _ = registry.register(folder=store["good"]["model_dir"])
    assert version.run_id == store["good"]["card"].mlflow_run_id != store["worse"]["card"].mlflow_run_id
    result = cli(store, "register", "--model-dir", str(store["worse"]["model_dir"]))
    assert result.returncode == 0 and f"(run {store['worse']['card'].mlflow_run_id})" in result.stdout


def test_archive_and_errors_leave_the_registry_as_it_was(store):
    registry = Registry("tfidf")
    with pytest.raises(RegistryError, match="has no versions"):
        registry.promote()
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.stage("1")
    registry.archive("1")
    assert state(registry) == {"1": ((), "Archived")}
    with pytest.raises(RegistryError, match=r"has no version 9 \(versions: 1\)"):
        registry.promote("9")
    with pytest.raises(RegistryError, match="no production version to roll back"):
        registry.rollback()


def test_a_run_of_the_other_model_is_refused(store):
    with pytest.raises(RegistryError, match="not a transformer run"):
        Registry("transformer").register(store["good"]["card"].mlflow_run_id)


def test_production_model_loads_with_the_same_predictions(store, tmp_path):
    registry = Registry("tfidf")
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.promote("1")
    texts = pd.read_csv(store["processed"] / "test.csv").text.tolist()
    local = load_model(store["good"]["model_dir"]).predictor.predict_proba(texts)
    loaded = load_model("models:/callcenterai-tfidf-classifier@production", cache_dir=tmp_path / "cache")
    assert loaded.card.version == "1" and loaded.card.metrics["test_macro_f1"] > 0
    assert np.abs(loaded.predictor.predict_proba(texts) - local).max() < 1e-12
    cached = load_model("models:/callcenterai-tfidf-classifier@production", cache_dir=tmp_path / "cache")
    assert cached.card.version == "1"
    assert np.abs(cached.predictor.predict_proba(texts) - local).max() < 1e-12


def test_a_version_made_with_an_older_normalisation_is_refused(store, tmp_path, monkeypatch):
    """Code whose normalisation moved on (version 3 here, by patching the constant the
    loaders compare against) must refuse the registered version 2 model, cached or not."""
    from callcenterai.errors import ModelLoadError

    Registry("tfidf").register(store["good"]["card"].mlflow_run_id)
    uri = "models:/callcenterai-tfidf-classifier/1"
    assert load_model(uri, cache_dir=tmp_path / "cache").card.text_normalisation == 2
    monkeypatch.setattr("callcenterai.models.folder.NORMALISATION_VERSION", 3)
    for cache in (tmp_path / "cache", None):
        with pytest.raises(ModelLoadError, match="normalisation version 2, but this code applies version 3"):
            load_model(uri, cache_dir=cache)


def test_cli_flow_as_a_user_types_it(store, tmp_path):
    result = cli(store, "register")
    assert result.returncode == 0 and "registered: callcenterai-tfidf-classifier version 1" in result.stdout
    result = cli(store, "register", "--run-id", store["good"]["card"].mlflow_run_id)
    assert "version 2" in result.stdout
    assert cli(store, "production", "--version", "2").returncode == 0
    refused = cli(store, "production", "--version", "1")
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert refused.returncode == 2 and len(errors) == 1 and "gate failed: macro_f1" in errors[0]
    assert "logged on the same test data" in errors[0]
    # Metrics logged on different test data are not compared: both versions are re-scored.
    Registry("tfidf").client.set_model_version_tag(
        "callcenterai-tfidf-classifier", "1", "test_data_md5", "from-another-split"
    )
    rescored = cli(store, "production", "--version", "1", "--test-data", store["processed"] / "test.csv")
    assert (
        rescored.returncode == 2 and "re-scored on the current test split" in rescored.stderr
    ), rescored.stderr
    missing = cli(store, "production", "--version", "1", "--test-data", tmp_path / "none.csv")
    assert missing.returncode == 2 and "test split not found" in missing.stderr
    listing = cli(store, "list").stdout
    assert "production" in listing and "Production" in listing and "test_macro_f1" in listing
    shown = Registry("tfidf").client.get_model_version("callcenterai-tfidf-classifier", "2").tags
    assert f"{float(shown['test_macro_f1']):.4f}" in listing  # rounded, as the docs quote it
    assert cli(store, "show", "2").returncode == 0
    assert "promoted to production" in cli(store, "history").stdout
    unknown = cli(store, "staging", "--version", "7")
    assert unknown.returncode == 2 and "no version 7" in unknown.stderr
    tickets = tmp_path / "t.csv"
    pd.DataFrame({"Document": ["printer toner empty", "cannot log in to vpn"]}).to_csv(tickets, index=False)
    scored = run_script(
        "scripts/predict.py",
        "--model",
        "models:/callcenterai-tfidf-classifier@production",
        "--input",
        tickets,
        "--output",
        tmp_path / "p.csv",
        env={"MLFLOW_TRACKING_URI": store["uri"]},
    )
    assert scored.returncode == 0, scored.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 2


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_no_runs_and_unreachable_store_are_clear(tmp_path):
    empty = run_script(
        "scripts/mlflow_registry.py",
        "register",
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/empty.db"},
    )
    assert empty.returncode == 2 and "no runs yet" in empty.stderr and "dvc repro" in empty.stderr
    down = run_script("scripts/mlflow_registry.py", "list", env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert down.returncode == 2 and "cannot reach the MLflow store at http://127.0.0.1:9" in down.stderr


PROMOTE = """
import sys
from callcenterai.config import RegistryParams
from callcenterai.registry.promotion import Registry
import callcenterai.registry.promotion as r
r.PROJECT_ROOT = __import__("pathlib").Path(sys.argv[2])
Registry("tfidf", params=RegistryParams(tolerance=1.0)).promote(sys.argv[1], reason="race")
"""


def test_concurrent_promotions_leave_one_production_version(store, tmp_path):
    registry = Registry("tfidf")
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.register(store["worse"]["card"].mlflow_run_id)
    env = {"MLFLOW_TRACKING_URI": store["uri"], "PATH": str(PROJECT_ROOT)}
    for _ in range(2):
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", PROMOTE, v, str(tmp_path)],
                cwd=PROJECT_ROOT,
                env={**__import__("os").environ, **env},
                stderr=subprocess.PIPE,
                text=True,
            )
            for v in ("1", "2")
        ]
        for racer in racers:
            racer.wait(timeout=120)
            # Each racer either promoted or was told, in one line, that it had nothing to do.
            stderr = racer.stderr.read()
            assert racer.returncode == 0 or "is already in production" in stderr, stderr
        versions = registry.versions()
        in_production = [v.version for v in versions if "production" in v.aliases]
        production_stage = [v.version for v in versions if v.current_stage == "Production"]
        assert len(in_production) == 1 and production_stage == in_production


def test_the_listing_rounds_metrics_rather_than_cutting_them():
    module = load_script("scripts/mlflow_registry.py")
    assert module._metric_cell("0.878080") == "0.8781"  # cutting the string gave 0.8780
    assert module._metric_cell(None) == "-" and module._metric_cell("n/a") == "-"


def test_setup_registers_and_promotes_once_then_says_nothing_is_left_to_do(
    store, capfd, tmp_path, monkeypatch
):
    # setup_mlops.py runs register + promote after every `dvc repro`; an unchanged
    # pipeline must leave the registry as it was and not report a failure.
    setup = load_script("setup_mlops.py")
    shutil.copytree(store["good"]["model_dir"], tmp_path / "models" / "tfidf")  # what dvc repro left
    monkeypatch.setattr(setup, "MODELS", tmp_path / "models")
    setup.register(sys.executable, "tfidf", "production")
    first = capfd.readouterr().out
    assert "registered: callcenterai-tfidf-classifier version 1" in first
    assert "already" not in first
    setup.register(sys.executable, "tfidf", "production")  # would sys.exit(2) on a failure
    again = capfd.readouterr().out
    assert "tfidf: the latest version is already in production; nothing to promote" in again
    assert "error:" not in again
    assert state(Registry("tfidf")) == {"1": (("production",), "Production")}
