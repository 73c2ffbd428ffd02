"""What each fault case measured: requests and their outcomes, flagged tickets expected (from the
agent's answers) against those the review store holds, and the alerts seen.

The cases write their reports to one JSON file (FAULT_REPORT, default reports/fault_suite.json)
that benchmarks/fault_suite.py renders as the table in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from callcenterai.config import PROJECT_ROOT
from tests.faults.load import Load

REPORT_PATH = Path(os.environ.get("FAULT_REPORT", PROJECT_ROOT / "reports" / "fault_suite.json"))


@dataclass
class AlertSeen:
    name: str
    service: str
    fired_after_s: float | None  # from the fault to the alert firing; None: it did not fire
    bound_s: float | None = None  # the bar: its for: plus one scrape interval
    evaluation_s: float | None = None  # plus one rule evaluation: the latest it can fire
    should_fire: bool = True


@dataclass
class CaseReport:
    case: str
    fault: str
    load_seconds: float = 0.0
    sent: int = 0
    answered: int = 0  # 2xx
    client_errors: int = 0  # 4xx
    server_errors: int = 0  # 5xx
    statuses: dict = field(default_factory=dict)
    refused_connections: int = 0  # attempts refused (the agent down); the ticket was sent again
    closed_connections: int = 0  # attempts whose connection closed before any answer; sent again
    given_up: int = 0  # tickets never answered: refused or closed for two minutes

    timeouts: int = 0
    degraded: int = 0
    slowest_answer_s: float = 0.0  # the longest any answered request took, retries after refusals included
    routes: dict = field(default_factory=dict)
    flagged_expected: int = 0
    flagged_stored: int = 0  # distinct flagged tickets of this case in the store
    lost: int = 0  # flagged in an answer, not in the store
    duplicated: int = 0  # rows beyond the first for one ticket
    stored_unanswered: int = 0  # in the store, its answer never seen
    alerts: list[AlertSeen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_load(self, load: Load) -> None:
        outcomes = load.outcomes
        statuses = Counter(o.status for o in outcomes if o.status is not None)
        self.load_seconds = round(self.load_seconds + load.ended - load.started, 1)
        self.sent += len(outcomes)
        self.answered += sum(n for s, n in statuses.items() if 200 <= s < 300)
        self.client_errors += sum(n for s, n in statuses.items() if 400 <= s < 500)
        self.server_errors += sum(n for s, n in statuses.items() if s >= 500)
        for status, count in statuses.items():
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + count
        self.refused_connections += sum(o.refused_attempts for o in outcomes)
        self.closed_connections += sum(o.closed_attempts for o in outcomes)
        self.given_up += sum(o.error in ("refused", "closed") for o in outcomes)
        self.timeouts += sum(o.error == "timeout" for o in outcomes)
        self.degraded += sum(o.degraded for o in outcomes)
        slowest = max((o.seconds for o in outcomes if o.status is not None), default=0.0)
        self.slowest_answer_s = round(max(self.slowest_answer_s, slowest), 2)
        for model, count in load.routes().items():
            self.routes[model] = self.routes.get(model, 0) + count

    def add_store(self, flagged_ids: set[str], answered_ids: set[str], rows: list[tuple[str, str]]) -> None:
        """``rows``: (request id, text) of this case's tickets in the review store."""
        by_id = Counter(request_id for request_id, _ in rows)
        by_text = Counter(text for _, text in rows)
        self.flagged_expected = len(flagged_ids)
        self.flagged_stored = len(by_id)
        self.lost = len(flagged_ids - set(by_id))
        self.duplicated = max(sum(n - 1 for n in by_id.values()), sum(n - 1 for n in by_text.values()))
        self.stored_unanswered = len(set(by_id) - answered_ids)

    def as_dict(self) -> dict:
        return asdict(self)


def flagged_ids(loads: list[Load]) -> tuple[set[str], set[str]]:
    """(request ids the agent answered needs_review, request ids the agent answered at all)."""
    outcomes = [o for load in loads for o in load.outcomes]
    answered = {o.request_id for o in outcomes if o.status == 200}
    return {o.request_id for o in outcomes if o.needs_review}, answered


def store_rows(connect, case: str) -> list[tuple[str, str]]:
    """(request id, text) of every flagged ticket of ``case`` (request ids ``fault-<case>-...``)."""
    with connect() as connection:
        cursor = connection.execute(
            "SELECT request_id, text FROM flagged_tickets WHERE request_id LIKE %s", (f"fault-{case}-%",)
        )
        return [(str(request_id), str(text)) for request_id, text in cursor.fetchall()]


def save(report: CaseReport, path: Path = REPORT_PATH) -> None:
    """Add (or replace) this case in the suite's JSON report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cases = json.loads(path.read_text()) if path.is_file() else {}
    cases[report.case] = report.as_dict()
    path.write_text(json.dumps(dict(sorted(cases.items())), indent=2) + "\n")
