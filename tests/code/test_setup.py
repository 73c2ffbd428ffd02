"""setup_mlops.py: quick mode edits params.yaml in place (the result must stay valid and commented);
the test tools' system packages are installed as root or asked for in one command."""

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
from tests.helpers import load_script


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


def fresh_machine(setup, tmp_path, monkeypatch, commands: set[str], root: bool) -> list[list[str]]:
    """``setup`` on a machine with only ``commands`` on the PATH and none of the test tools: the
    commands it runs come back in the returned list, and apt-get installs add to ``commands``."""
    monkeypatch.setattr(setup, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(setup, "POSTGRESQL_INITDB", str(tmp_path / "postgresql" / "*" / "initdb"))
    monkeypatch.setattr(setup, "AXE_CORE", tmp_path / "node_modules" / "axe-core" / "axe.min.js")
    monkeypatch.setattr(setup, "TOOLS_VENV", tmp_path / ".venv-tools")
    monkeypatch.setattr(
        setup.shutil, "which", lambda name, path=None: f"/usr/bin/{name}" if name in commands else None
    )
    monkeypatch.setattr(setup.os, "geteuid", lambda: 0 if root else 1000)
    ran: list[list[str]] = []

    def run(command: list, **kwargs) -> None:
        ran.append([str(part) for part in command])
        if command[:2] == ["apt-get", "install"]:
            commands.update(setup.NODE_PACKAGES.get(package, package) for package in command[2:])

    monkeypatch.setattr(setup, "run", run)
    return ran


def test_a_user_is_told_the_one_apt_get_command_for_every_missing_package(tmp_path, monkeypatch, capsys):
    setup = load_script("setup_mlops.py")
    ran = fresh_machine(setup, tmp_path, monkeypatch, {"apt-get"}, root=False)
    with pytest.raises(SystemExit) as exit_:
        setup.install_test_tools()
    assert exit_.value.code == 2 and ran == []
    error = capsys.readouterr().err.strip()
    wanted = " ".join(
        [
            *("podman", "runc", "mmdebstrap", "prometheus", "openjdk-17-jre-headless", "haproxy"),
            *("chromium", "postgresql", "nodejs", "npm"),
        ]
    )
    assert f"`sudo apt-get install -y {wanted}`" in error
    assert len(error.splitlines()) == 1


def test_root_installs_node_and_npm_with_the_other_packages_then_axe_core(tmp_path, monkeypatch):
    setup = load_script("setup_mlops.py")
    ran = fresh_machine(setup, tmp_path, monkeypatch, {"apt-get", "node"}, root=True)
    setup.install_test_tools()
    install = next(command for command in ran if command[:2] == ["apt-get", "install"])
    assert install[-9:] == [
        *("podman", "runc", "mmdebstrap", "prometheus", "openjdk-17-jre-headless", "haproxy"),
        *("chromium", "postgresql", "npm"),
    ]
    assert ran[-1][:2] == ["npm", "ci"]  # after apt-get installed npm


def test_node_is_not_asked_for_once_axe_core_is_installed(tmp_path, monkeypatch):
    setup = load_script("setup_mlops.py")
    fresh_machine(setup, tmp_path, monkeypatch, {"apt-get"}, root=True)
    setup.AXE_CORE.parent.mkdir(parents=True)
    setup.AXE_CORE.write_text("/* axe */")
    assert setup.debian_packages_missing() == [*setup.CONTAINER_PACKAGES, "chromium", "postgresql"]
