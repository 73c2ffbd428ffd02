"""What DVC re-runs after an edit to the package, on the reproduced fixture project."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import dvc

TRAINING_STAGES = {"train_tfidf", "train_transformer", "export_transformer"}


def stages_to_rerun(folder: Path, env: dict) -> set[str]:
    """The stages `dvc status` reports changed (keys are stage names; `dvc.yaml:` where prefixed)."""
    status = json.loads(dvc(folder, env, "status", "--json") or "{}")
    return {name.rpartition(":")[2] for name in status}


def edit(path: Path) -> None:
    with path.open("a", encoding="utf-8") as source:
        source.write("# an edit\n")


def test_an_edit_to_registry_code_retrains_no_model(project_copy):
    """A training stage depends on what it runs, not on the registry: editing the registry's
    store (the fixture project's own copy of the package) re-runs no training stage."""
    folder, env = project_copy
    assert stages_to_rerun(folder, env) & TRAINING_STAGES == set()
    edit(folder / "callcenterai" / "registry" / "store.py")
    assert sorted(stages_to_rerun(folder, env) & TRAINING_STAGES) == []
    # The same check sees an edit to code a training stage runs.
    edit(folder / "callcenterai" / "models" / "tfidf.py")
    assert "train_tfidf" in stages_to_rerun(folder, env)
