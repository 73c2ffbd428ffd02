"""setup_mlops.py's quick mode edits params.yaml in place; the result must stay valid and commented."""

from __future__ import annotations

import importlib.util
import shutil

from callcenterai.config import (
    PROJECT_ROOT,
    ExportTransformerParams,
    TrainTfidfParams,
    TrainTransformerParams,
    load_section,
)


def load_setup():
    spec = importlib.util.spec_from_file_location("setup_mlops", PROJECT_ROOT / "setup_mlops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_mode_changes_only_the_transformer_values(tmp_path):
    params = tmp_path / "params.yaml"
    shutil.copy(PROJECT_ROOT / "params.yaml", params)
    load_setup().apply_quick_params(params)
    quick = load_section("train_transformer", TrainTransformerParams, params)
    full = load_section("train_transformer", TrainTransformerParams, PROJECT_ROOT / "params.yaml")
    assert (quick.max_train_rows, quick.epochs) == (2000, 1)
    assert quick.model_copy(update={"max_train_rows": None, "epochs": full.epochs}) == full
    export = load_section("export_transformer", ExportTransformerParams, params)
    assert (export.min_agreement, export.max_accuracy_drop) == (0.97, 0.02) and export.keep_fp32 == (
        "head",
        "ffn_output",
        "embeddings",
    )
    assert load_section("train_tfidf", TrainTfidfParams, params) == load_section(
        "train_tfidf", TrainTfidfParams, PROJECT_ROOT / "params.yaml"
    )
    before = (PROJECT_ROOT / "params.yaml").read_text().splitlines()
    after = params.read_text().splitlines()
    assert len(before) == len(after) and sum(a != b for a, b in zip(before, after)) == 4
    assert all("#" in a for a, b in zip(before, after) if a != b and "#" in b)
