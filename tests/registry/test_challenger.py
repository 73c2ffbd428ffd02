"""The challenger alias against a real sqlite MLflow store: set, clear, refused, and what promotion,
archive and rollback do to it; the CLI as users type it."""

from __future__ import annotations

import pandas as pd
import pytest

from callcenterai.config import LABELS, PrepareParams, RegistryParams
from callcenterai.registry.challenger import labels_only_on_each_side
from callcenterai.registry.promotion import Registry
from callcenterai.registry.store import RegistryError
from tests.helpers import GOOD, train_and_evaluate
from tests.registry.test_registry import cli, state


@pytest.fixture()
def two_versions(store):
    """Version 1 (the good run) in production, version 2 (the worse run) registered."""
    registry = Registry("tfidf", params=RegistryParams(tolerance=1.0))
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.promote("1")
    registry.register(store["worse"]["card"].mlflow_run_id)
    return registry


def test_the_labels_only_on_each_side_are_sorted_and_empty_when_the_sets_are_equal():
    production, candidate = ["Storage", "Access", "Hardware"], ["Purchase", "Hardware", "Access", "Misc"]
    assert labels_only_on_each_side(production, candidate) == (["Storage"], ["Misc", "Purchase"])
    assert labels_only_on_each_side(["Access", "Hardware"], ["Hardware", "Access"]) == ([], [])


def moves(registry) -> list[tuple[str, str, str]]:
    return [(e.version, e.source, e.target) for e in registry.history()]


def test_a_challenger_is_set_shown_and_cleared_with_each_step_in_the_history(two_versions, store):
    registry = two_versions
    event = registry.challenge("2", "try the small vocabulary")
    assert (event.version, event.source, event.target) == ("2", "none", "challenger")
    assert registry.alias_version("challenger").version == "2"
    assert state(registry) == {"1": (("production",), "Production"), "2": (("challenger",), "None")}
    listing = cli(store, "list").stdout.splitlines()
    assert [line.split()[:2] for line in listing[1:]] == [["1", "production"], ["2", "challenger"]]
    assert "challenger" in cli(store, "show", "2").stdout
    cleared = registry.clear_challenger("enough seen")
    assert (cleared.version, cleared.source, cleared.target) == ("2", "challenger", "none")
    assert registry.alias_version("challenger") is None and state(registry)["2"] == ((), "None")
    assert moves(registry)[-2:] == [("2", "none", "challenger"), ("2", "challenger", "none")]
    assert [e.reason for e in registry.history()][-2:] == ["try the small vocabulary", "enough seen"]
    with pytest.raises(RegistryError, match="has no challenger to clear"):
        registry.clear_challenger()


def test_the_version_in_production_cannot_be_the_challenger(two_versions):
    registry = two_versions
    before, history = state(registry), registry.history()
    with pytest.raises(RegistryError, match="version 1 is in production; the challenger is compared with"):
        registry.challenge("1")
    registry.challenge("2")
    with pytest.raises(RegistryError, match="version 2 is the challenger already"):
        registry.challenge("2")
    assert registry.alias_version("challenger").version == "2"
    assert len(registry.history()) == len(history) + 1 and state(registry)["1"] == before["1"]


def test_a_version_with_other_labels_is_refused_naming_them(two_versions, store, tmp_path):
    """A run trained without one label: its answers could not be compared with production's."""
    from callcenterai.stages.prepare import run_prepare

    kept = tuple(label for label in LABELS if label != "Storage")
    raw = pd.read_csv(store["folder"] / "raw.csv", dtype=str, keep_default_na=False)
    raw[raw.Topic_group != "Storage"].to_csv(tmp_path / "raw.csv", index=False)
    run_prepare(tmp_path / "raw.csv", tmp_path / "processed", PrepareParams(labels=kept))
    narrow = train_and_evaluate(tmp_path, tmp_path / "processed", GOOD, "narrow")
    registry = two_versions
    version, _ = registry.register(narrow["card"].mlflow_run_id)
    before, history = state(registry), registry.history()
    with pytest.raises(RegistryError) as refused:
        registry.challenge(version.version)
    assert f"version {version.version} answers with other labels than production version 1" in str(
        refused.value
    )
    assert "only production version 1 has Storage" in str(refused.value)
    assert state(registry) == before and registry.history() == history


def test_promotion_takes_the_challenger_alias_off_the_promoted_version_and_a_refusal_keeps_it(two_versions):
    registry = two_versions
    registry.stage("2")
    registry.challenge("2")
    assert state(registry)["2"] == (("challenger", "staging"), "Staging")
    before = state(registry)
    with pytest.raises(RegistryError, match="gate failed"):
        Registry("tfidf", params=RegistryParams(tolerance=0.0)).promote("2")  # the worse run
    assert state(registry) == before
    event = registry.promote("2")
    assert event.source == "challenger"
    assert state(registry) == {"1": ((), "Archived"), "2": (("production",), "Production")}


def test_rollback_to_the_challenger_and_archiving_the_challenger_take_the_alias_off(two_versions):
    registry = two_versions
    registry.promote("2")
    registry.challenge("1")  # the version production held before may challenge again
    assert state(registry)["1"] == (("challenger",), "Archived")
    assert registry.rollback("bad answers").version == "1"
    assert registry.alias_version("challenger") is None
    assert state(registry) == {"1": (("production",), "Production"), "2": ((), "Archived")}
    registry.promote("2", reason="again")
    registry.challenge("1")
    registry.archive("1", "not worth shadowing")
    assert registry.alias_version("challenger") is None and state(registry)["1"] == ((), "Archived")
    assert moves(registry)[-1] == ("1", "challenger", "archived")


def test_the_cli_sets_and_clears_the_challenger(two_versions, store):
    refused = cli(store, "challenger", "--version", "1")
    assert refused.returncode == 2 and "version 1 is in production" in refused.stderr
    result = cli(store, "challenger", "--version", "2", "--reason", "trial")
    assert result.returncode == 0, result.stderr
    assert "callcenterai-tfidf-classifier version 2: none -> challenger" in result.stdout
    assert two_versions.alias_version("challenger").version == "2"
    history = cli(store, "history").stdout
    assert "challenger" in history and "trial" in history
    cleared = cli(store, "challenger", "--clear")
    assert cleared.returncode == 0 and "version 2: challenger -> none" in cleared.stdout
    assert two_versions.alias_version("challenger") is None
    neither = cli(store, "challenger")
    assert neither.returncode == 2 and "one of the arguments --version --clear is required" in neither.stderr
