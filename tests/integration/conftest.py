"""Fixtures of the pipeline tests: the reproduced fixture project, copied for a test to change."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import sqlite_uri


@pytest.fixture()
def project_copy(trained_project, tmp_path):
    """A copy of the reproduced fixture project (git, DVC cache, MLflow store) to change freely."""
    folder, _ = trained_project
    copy = tmp_path / "project"
    shutil.copytree(folder, copy, symlinks=True)
    return copy, {"MLFLOW_TRACKING_URI": sqlite_uri(copy)}
