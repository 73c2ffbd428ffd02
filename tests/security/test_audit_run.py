"""pip-audit run on a lock file: its report is kept whatever its exit code, and no report is an error."""

import json
from pathlib import Path

import pytest

from callcenterai.errors import UserError
from callcenterai.security.audit_run import audit_lock_file, report_path

# requests 2.31.0 as a hash-pinned lock file line (the wheel's published sha256).
REQUESTS_LOCK = (
    "requests==2.31.0 \\\n"
    "    --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f\n"
)


def test_report_names_follow_the_lock_files_service(tmp_path):
    lock = Path("services/agent/requirements.lock")
    assert report_path(lock, tmp_path) == tmp_path / "services-agent-requirements.json"


def test_pip_audit_writes_a_report_for_the_gate_whether_it_could_audit_or_not(tmp_path):
    lock = tmp_path / "svc" / "requirements.lock"
    lock.parent.mkdir()
    lock.write_text(REQUESTS_LOCK)
    report = json.loads(audit_lock_file(lock, tmp_path / "reports").read_text())
    # Offline pip-audit skips requests; online it reports the pin's advisories. Either way it is there.
    [requests] = report["dependencies"]
    assert requests["name"] == "requests"
    assert "skip_reason" in requests or requests["vulns"]


def test_a_lock_file_pip_audit_cannot_read_is_an_error(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("requests>=2\n")  # not pinned, no hashes: pip-audit refuses it with --disable-pip
    with pytest.raises(UserError, match="pip-audit wrote no report"):
        audit_lock_file(lock, tmp_path / "reports")
    with pytest.raises(UserError, match="no such lock file"):
        audit_lock_file(tmp_path / "missing.lock", tmp_path / "reports")
