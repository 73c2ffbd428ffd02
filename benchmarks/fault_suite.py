"""The fault suite's counts as a table for docs/benchmarks.md.

  .venv/bin/python -m benchmarks.fault_suite [--run] [--report reports/fault_suite.json]

With --run, first runs the suite (`pytest tests/faults -m slow`: real processes under load,
a live Prometheus with the project's alert rules, PostgreSQL, MLflow), which writes one
entry per case to the report; then prints every case's counts as a Markdown table, and the
suite's totals against the bars (0 flagged tickets lost or doubled; 0 5xx from the agent where
a classifier is up; the kill-a-classifier alert within its for: plus one scrape interval).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPORT = ROOT / "reports" / "fault_suite.json"
COLUMNS = (
    ("case", "case"),
    ("load s", "load_seconds"),
    ("sent", "sent"),
    ("2xx", "answered"),
    ("4xx", "client_errors"),
    ("5xx", "server_errors"),
    ("refused conn.", "refused_connections"),
    ("closed unanswered", "closed_connections"),
    ("given up", "given_up"),
    ("degraded", "degraded"),
    ("slowest answer s", "slowest_answer_s"),
    ("flagged expected", "flagged_expected"),
    ("flagged stored", "flagged_stored"),
    ("lost", "lost"),
    ("doubled", "duplicated"),
    ("alert (fired after / bar)", "alerts"),
)


def alert_cell(alerts: list[dict]) -> str:
    cells = []
    for alert in alerts:
        name = f"{alert['name']}({alert['service']})"
        if not alert.get("should_fire", True):
            cells.append(f"{name} silent, as it should be, {alert['bound_s']:.0f} s")
            continue
        fired = "not fired" if alert["fired_after_s"] is None else f"{alert['fired_after_s']:.1f} s"
        cells.append(f"{name} {fired} / {alert['bound_s']:.0f} s")
    return "; ".join(cells) or "–"


def table(cases: dict) -> str:
    lines = ["| " + " | ".join(title for title, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for case in cases.values():
        cells = [alert_cell(case[key]) if key == "alerts" else str(case[key]) for _, key in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {name}: {case['fault']}" for name, case in cases.items()]
    for name, case in cases.items():
        lines += [f"  - {name}: {note}" for note in case["notes"]]
    return "\n".join(lines)


def bars(cases: dict) -> str:
    lost = sum(c["lost"] for c in cases.values())
    doubled = sum(c["duplicated"] for c in cases.values())
    agent_5xx = sum(c["server_errors"] for name, c in cases.items() if name != "f")  # f: the web's
    alerts = [a for c in cases.values() for a in c["alerts"] if a.get("should_fire", True)]
    in_time = [a["fired_after_s"] is not None and a["fired_after_s"] <= a["bound_s"] for a in alerts]
    return (
        f"Totals: {lost} flagged tickets lost, {doubled} doubled; {agent_5xx} 5xx from the agent; "
        f"alerts within for: + one scrape: {sum(in_time)} of {len(in_time)}."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the fault suite first")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = parser.parse_args()
    if args.run:
        args.report.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests/faults",
            "-m",
            "slow",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        env = {**os.environ, "FAULT_REPORT": str(args.report)}
        result = subprocess.run(command, cwd=ROOT, env=env)
        if result.returncode:
            print(f"the fault suite failed (exit {result.returncode}); the table shows what it measured")
    if not args.report.is_file():
        print(f"no report at {args.report}: run with --run", file=sys.stderr)
        return 1
    cases = json.loads(args.report.read_text())
    print(table(cases))
    print()
    print(bars(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
