"""Running pip-audit on a lock file, for the gate to judge its report.

pip-audit exits 1 when it finds a vulnerability and 0 when it skipped every package, so its
exit code decides nothing here: the report it writes does, and no report is a failure.
"""

from __future__ import annotations

import subprocess  # nosec B404: runs pip-audit, a pinned dev tool, with a fixed argument list
import sys
from pathlib import Path

from callcenterai.errors import UserError

# Read the pins as written and install nothing: a lock file pins every dependency, hashes included.
PIP_AUDIT_ARGS = ["--disable-pip", "--no-deps", "--format", "json", "--progress-spinner", "off"]
TIMEOUT_SECONDS = 900


def report_path(lock_file: Path, report_dir: Path) -> Path:
    """Where the report goes: ``services/agent/requirements.lock`` -> ``services-agent-requirements.json``."""
    return report_dir / ("-".join(lock_file.with_suffix("").parts[-3:]) + ".json")


def audit_lock_file(lock_file: Path, report_dir: Path) -> Path:
    """Run pip-audit on ``lock_file``; the path of the JSON report it wrote."""
    if not lock_file.is_file():
        raise UserError(f"{lock_file}: no such lock file")
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_path(lock_file, report_dir)
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(lock_file), *PIP_AUDIT_ARGS]
    result = subprocess.run(  # nosec B603: no shell, the arguments are ours and a path
        [*command, "--output", str(report)], capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )
    if not report.is_file():
        last_line = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"{lock_file}: pip-audit wrote no report (exit {result.returncode}): {last_line}")
    return report
