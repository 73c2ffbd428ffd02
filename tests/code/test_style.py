"""The code base stays black, isort and flake8 clean (CI runs these through pytest)."""

import subprocess
import sys

import pytest

from callcenterai.config import PROJECT_ROOT

TARGETS = ["callcenterai", "scripts", "services", "tests", "benchmarks", "setup_mlops.py"]


@pytest.mark.parametrize(
    "tool",
    [
        ["black", "--check", "--quiet"],
        ["isort", "--check-only", "--quiet"],
        ["flake8"],
    ],
    ids=["black", "isort", "flake8"],
)
def test_code_is_clean(tool):
    targets = [t for t in TARGETS if (PROJECT_ROOT / t).exists()]
    result = subprocess.run(
        [sys.executable, "-m", *tool, *targets], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
