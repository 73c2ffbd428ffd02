"""The gate's verdict: a known vulnerability fails it until a reviewed entry covers it, and only until the
entry's date; a skipped package, an empty audit or an expired entry fails it too."""

from datetime import date

from callcenterai.security.audit_report import AuditReport, load_report
from callcenterai.security.ignore_list import IgnoreEntry
from callcenterai.security.vulnerabilities import judge, summary_table

from .conftest import NETRC_LEAK, SESSION_VERIFY, SKIPPED_REPORT, TODAY, VULNERABLE_REPORT


def entry(advisory: str, until: date, package: str = "requests") -> IgnoreEntry:
    return IgnoreEntry(id=advisory, package=package, reason="no fix we can take yet", until=until)


def both_advisories_ignored_until(until: date) -> list[IgnoreEntry]:
    return [entry(SESSION_VERIFY, until), entry("CVE-2024-47081", until)]  # the second by its CVE alias


def test_the_recorded_vulnerable_report_fails_with_one_line_per_advisory():
    verdict = judge([load_report(VULNERABLE_REPORT)], [], TODAY)
    assert not verdict.passed
    assert len(verdict.problems) == 2
    first, second = verdict.problems
    for part in ("VULNERABLE", "requests 2.31.0", SESSION_VERIFY, "CVE-2024-35195", "fixed in 2.32.0"):
        assert part in first
    assert NETRC_LEAK in second and "fixed in 2.32.4" in second


def test_it_passes_once_every_advisory_is_on_the_ignore_list_until_a_later_date():
    verdict = judge([load_report(VULNERABLE_REPORT)], both_advisories_ignored_until(date(2026, 6, 30)), TODAY)
    assert verdict.passed, verdict.problems
    assert [s.ignored for s in verdict.summaries] == [2]
    assert any("ignored requests 2.31.0" in note and SESSION_VERIFY in note for note in verdict.notes)


def test_ignoring_one_advisory_leaves_the_other_failing():
    verdict = judge([load_report(VULNERABLE_REPORT)], [entry(SESSION_VERIFY, date(2026, 6, 30))], TODAY)
    assert [NETRC_LEAK in line for line in verdict.problems] == [True]


def test_it_fails_again_once_the_entries_date_has_passed():
    ignore_list = both_advisories_ignored_until(TODAY)
    report = load_report(VULNERABLE_REPORT)
    assert judge([report], ignore_list, TODAY).passed  # the until day itself still holds
    verdict = judge([report], ignore_list, date(2026, 6, 2))
    assert not verdict.passed
    vulnerable = [line for line in verdict.problems if "VULNERABLE" in line]
    expired = [line for line in verdict.problems if "EXPIRED" in line]
    assert len(vulnerable) == 2 and all("expired after 2026-06-01" in line for line in vulnerable)
    assert len(expired) == 2 and SESSION_VERIFY in expired[0]


def test_an_entry_for_another_package_ignores_nothing():
    verdict = judge(
        [load_report(VULNERABLE_REPORT)], [entry(SESSION_VERIFY, date(2027, 1, 1), "urllib3")], TODAY
    )
    assert len(verdict.problems) == 2
    assert any("matched nothing" in note for note in verdict.notes)


def test_a_run_that_skipped_packages_fails_and_lists_them():
    verdict = judge([load_report(SKIPPED_REPORT)], [], TODAY)
    assert not verdict.passed
    skipped = [line for line in verdict.problems if "SKIPPED" in line]
    assert len(skipped) == 1 and "never clean" in skipped[0]
    assert "jinja2" in skipped[0] and "not found on PyPI" in skipped[0]


def test_one_skipped_package_beside_audited_ones_still_fails():
    report = AuditReport.model_validate(
        {
            "dependencies": [
                {"name": "idna", "version": "3.10", "vulns": []},
                {"name": "torch", "skip_reason": "Dependency not found on PyPI and could not be audited"},
            ]
        }
    )
    [problem] = judge([report], [], TODAY).problems
    assert "SKIPPED 1 of 2 packages" in problem and "torch" in problem and "idna" not in problem


def test_an_empty_report_and_no_report_at_all_fail():
    empty = AuditReport(label="empty.json", dependencies=())
    assert any("EMPTY" in line for line in judge([empty], [], TODAY).problems)
    assert not judge([], [], TODAY).passed


def test_clean_reports_pass_and_every_report_gets_a_row():
    clean = [
        AuditReport.model_validate({"label": name, "dependencies": [{"name": "idna", "version": "3.10"}]})
        for name in ("services/agent/requirements.lock", "services/mlflow/requirements.lock")
    ]
    verdict = judge(clean + [load_report(VULNERABLE_REPORT, label="vulnerable")], [], TODAY)
    assert [(s.label, s.audited, s.vulnerable) for s in verdict.summaries] == [
        ("services/agent/requirements.lock", 1, 0),
        ("services/mlflow/requirements.lock", 1, 0),
        ("vulnerable", 1, 2),
    ]
    assert judge(clean, [], TODAY).passed
    table = summary_table(verdict).splitlines()
    assert table[0].split() == ["report", "audited", "skipped", "vulnerable", "ignored"]
    assert table[3].split() == ["vulnerable", "1", "0", "2", "0"]
