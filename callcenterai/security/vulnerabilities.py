"""The gate's verdict over pip-audit reports and the ignore list.

Clean means more than "pip-audit found nothing": every report audited at least one package
and skipped none (pip-audit skips whatever it cannot look up, and a skipped package is
never clean), each vulnerability found is on the ignore list with a date not yet passed,
and no entry of the list has expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from callcenterai.security.audit_report import AuditedDependency, AuditReport, Vulnerability
from callcenterai.security.ignore_list import IgnoreEntry


@dataclass(frozen=True)
class ReportSummary:
    label: str
    audited: int
    skipped: int
    vulnerable: int
    ignored: int


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summaries: list[ReportSummary] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _matching_entry(
    ignore_list: list[IgnoreEntry], dependency: AuditedDependency, vulnerability: Vulnerability
) -> IgnoreEntry | None:
    advisory_ids = (vulnerability.id, *vulnerability.aliases)
    return next((entry for entry in ignore_list if entry.describes(dependency.name, advisory_ids)), None)


def _vulnerable_line(
    label: str, dependency: AuditedDependency, vulnerability: Vulnerability, entry: IgnoreEntry | None
) -> str:
    aliases = f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else ""
    fixed_in = ", ".join(vulnerability.fix_versions) or "no fixed release yet"
    expired = f"; its ignore entry expired after {entry.until.isoformat()}" if entry else ""
    return (
        f"{label}: VULNERABLE {dependency.name} {dependency.version}: {vulnerability.id}{aliases},"
        f" fixed in {fixed_in}{expired}"
    )


def _skipped_line(report: AuditReport) -> str:
    skipped = report.skipped
    names = ", ".join(dependency.name for dependency in skipped)
    return (
        f"{report.label}: SKIPPED {len(skipped)} of {len(report.dependencies)} packages, and skipped is"
        f" never clean: {names} (first reason: {skipped[0].skip_reason})"
    )


def _judge_report(
    report: AuditReport, ignore_list: list[IgnoreEntry], today: date, verdict: Verdict, used: set[int]
) -> None:
    if not report.audited:
        verdict.problems.append(f"{report.label}: EMPTY audit, no package was audited, which is never clean")
    if report.skipped:
        verdict.problems.append(_skipped_line(report))
    vulnerable = ignored = 0
    for dependency in report.audited:
        for vulnerability in dependency.vulns:
            entry = _matching_entry(ignore_list, dependency, vulnerability)
            if entry is not None and not entry.expired(today):
                used.add(id(entry))
                ignored += 1
                verdict.notes.append(
                    f"{report.label}: ignored {dependency.name} {dependency.version} {vulnerability.id}"
                    f" until {entry.until.isoformat()}: {entry.reason}"
                )
            else:
                vulnerable += 1
                verdict.problems.append(_vulnerable_line(report.label, dependency, vulnerability, entry))
    verdict.summaries.append(
        ReportSummary(report.label, len(report.audited), len(report.skipped), vulnerable, ignored)
    )


def judge(reports: list[AuditReport], ignore_list: list[IgnoreEntry], today: date) -> Verdict:
    """The verdict on ``reports`` (one per lock file) as of ``today``."""
    verdict = Verdict()
    if not reports:
        verdict.problems.append("no pip-audit report was given, and nothing audited is never clean")
    used: set[int] = set()
    for report in reports:
        _judge_report(report, ignore_list, today, verdict, used)
    for entry in ignore_list:
        if entry.expired(today):
            verdict.problems.append(
                f"ignore list: EXPIRED entry {entry}: upgrade the package, or review the entry and its date"
            )
        elif id(entry) not in used:
            verdict.notes.append(f"ignore list: entry {entry} matched nothing in these reports")
    return verdict


def summary_table(verdict: Verdict) -> str:
    """One row per report: packages audited and skipped, vulnerabilities left and ignored."""
    header = ("report", "audited", "skipped", "vulnerable", "ignored")
    rows = [header] + [
        (s.label, str(s.audited), str(s.skipped), str(s.vulnerable), str(s.ignored))
        for s in verdict.summaries
    ]
    width = max(len(row[0]) for row in rows)
    return "\n".join(
        f"{row[0]:<{width}}  " + "  ".join(f"{cell:>{len(name)}}" for cell, name in zip(row[1:], header[1:]))
        for row in rows
    )
