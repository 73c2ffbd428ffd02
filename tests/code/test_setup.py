"""setup_mlops.py's quick mode edits params.yaml in place; the result must stay valid and commented."""

from __future__ import annotations

import shutil

from callcenterai.config import (
    PROJECT_ROOT,
    ExportTransformerParams,
    TrainTfidfParams,
    TrainTransformerParams,
    load_section,
)
from tests.conftest import load_script


def test_quick_mode_changes_only_the_transformer_values(tmp_path):
    # Compared key by key with the project's params.yaml, which CI has already made quick.
    import yaml

    setup = load_script("setup_mlops.py")
    params = tmp_path / "params.yaml"
    shutil.copy(PROJECT_ROOT / "params.yaml", params)
    setup.apply_quick_params(params)
    quick = load_section("train_transformer", TrainTransformerParams, params)
    assert (quick.max_train_rows, quick.epochs) == (2000, 1)
    export = load_section("export_transformer", ExportTransformerParams, params)
    assert (export.min_agreement, export.max_accuracy_drop) == (0.97, 0.02)
    assert load_section("train_tfidf", TrainTfidfParams, params) == load_section(
        "train_tfidf", TrainTfidfParams, PROJECT_ROOT / "params.yaml"
    )
    before = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    after = yaml.safe_load(params.read_text())
    for section, values in setup.QUICK_PARAMS.items():
        for key in values:
            before[section].pop(key), after[section].pop(key)
    assert before == after
    original, edited = (PROJECT_ROOT / "params.yaml").read_text(), params.read_text()
    assert original.count("#") == edited.count("#") and len(original.splitlines()) == len(edited.splitlines())
