"""pip-audit's JSON report read as pip-audit writes it, and anything else refused with the file named."""

import json

import pytest

from callcenterai.errors import UserError
from callcenterai.security.audit_report import load_report

from .conftest import NETRC_LEAK, SESSION_VERIFY, SKIPPED_REPORT, VULNERABLE_REPORT


def test_recorded_vulnerable_report_is_read_with_its_advisories():
    report = load_report(VULNERABLE_REPORT)
    [requests] = report.audited
    assert (requests.name, requests.version) == ("requests", "2.31.0")
    assert [(v.id, v.fix_versions) for v in requests.vulns] == [
        (SESSION_VERIFY, ("2.32.0",)),
        (NETRC_LEAK, ("2.32.4",)),
    ]
    assert requests.vulns[0].known_as("CVE-2024-35195")
    assert report.skipped == []


def test_offline_report_has_every_package_skipped_and_none_audited():
    report = load_report(SKIPPED_REPORT, label="services/web_interface/requirements.lock")
    assert report.label == "services/web_interface/requirements.lock"
    assert report.audited == []
    assert len(report.skipped) == len(report.dependencies) > 10
    assert all("could not be audited" in dependency.skip_reason for dependency in report.skipped)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("not json", "not a readable pip-audit JSON report"),
        ("[]", "expected an object"),
        (json.dumps({"fixes": []}), "dependencies"),
        (json.dumps({"dependencies": [{"name": "requests"}]}), "needs either a version"),
        (
            json.dumps({"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix_versions": []}]}]}),
            "id",
        ),
    ],
)
def test_anything_but_a_pip_audit_report_is_refused_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "report.json"
    path.write_text(content)
    with pytest.raises(UserError, match=expected) as error:
        load_report(path)
    assert str(path) in str(error.value)
