"""Recorded pip-audit reports and ignore lists for the vulnerability gate's tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from callcenterai.config import PROJECT_ROOT

REPORTS = PROJECT_ROOT / "tests" / "fixtures" / "pip_audit"
VULNERABLE_REPORT = REPORTS / "requests-2.31.0-vulnerable.json"
SKIPPED_REPORT = REPORTS / "web_interface-offline-skipped.json"
# The advisories the recorded report holds for requests 2.31.0.
SESSION_VERIFY = "GHSA-9wx4-h78v-vm56"
NETRC_LEAK = "GHSA-9hjg-9r4m-mvj7"
TODAY = date(2026, 6, 1)


def ignore_entry(advisory: str, until: str, package: str = "requests", reason: str = "reviewed") -> str:
    return f'[[ignore]]\nid = "{advisory}"\npackage = "{package}"\nreason = "{reason}"\nuntil = {until}\n'


@pytest.fixture
def write_ignore_list(tmp_path: Path):
    """Write TOML ``text`` as an ignore list; its path."""

    def write(text: str) -> Path:
        path = tmp_path / "vulnerability-ignore.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
