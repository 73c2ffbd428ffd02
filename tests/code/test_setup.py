"""setup_mlops.py's quick mode edits params.yaml in place; the result must stay valid and commented."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from callcenterai.config import (
    PROJECT_ROOT,
    ExportTransformerParams,
    TrainTfidfParams,
    TrainTransformerParams,
    load_section,
)
from tests.conftest import load_script


def committed_params(tmp_path) -> Path:
    """params.yaml as committed: the working tree's may already be quick (CI runs --quick first)."""
    shown = subprocess.run(
        ["git", "show", "HEAD:params.yaml"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    if shown.returncode != 0:
        pytest.skip("not a git checkout: the committed params.yaml cannot be read")
    path = tmp_path / "committed.yaml"
    path.write_text(shown.stdout)
    return path


def test_quick_mode_changes_only_the_transformer_values(tmp_path):
    import yaml

    setup = load_script("setup_mlops.py")
    original_path = committed_params(tmp_path)
    assert load_section("train_transformer", TrainTransformerParams, original_path).max_train_rows is None
    params = tmp_path / "params.yaml"
    shutil.copy(original_path, params)
    setup.apply_quick_params(params)
    quick = load_section("train_transformer", TrainTransformerParams, params)
    assert (quick.max_train_rows, quick.epochs) == (2000, 1)
    export = load_section("export_transformer", ExportTransformerParams, params)
    assert (export.min_agreement, export.max_accuracy_drop) == (0.97, 0.02)
    assert load_section("train_tfidf", TrainTfidfParams, params) == load_section(
        "train_tfidf", TrainTfidfParams, original_path
    )
    before = yaml.safe_load(original_path.read_text())
    after = yaml.safe_load(params.read_text())
    for section, values in setup.QUICK_PARAMS.items():
        for key in values:
            before[section].pop(key), after[section].pop(key)
    assert before == after
    original, edited = original_path.read_text(), params.read_text()
    assert original.count("#") == edited.count("#") and len(original.splitlines()) == len(edited.splitlines())


def test_a_row_capped_transformer_is_promoted_to_staging_only(tmp_path, monkeypatch):
    setup = load_script("setup_mlops.py")
    monkeypatch.setattr(setup, "MODELS", tmp_path / "models")
    card = tmp_path / "models" / "transformer" / "model_card.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"row_cap": 2000}))
    assert setup.transformer_target(quick=False) == "staging"
    card.write_text(json.dumps({"row_cap": None}))
    assert setup.transformer_target(quick=False) == "production"
    assert setup.transformer_target(quick=True) == "staging"
