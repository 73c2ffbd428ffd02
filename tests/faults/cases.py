"""Steps the fault cases share: the review store's account of a case, alert timing, metrics."""

from __future__ import annotations

import time

import httpx

from tests.faults.load import Load
from tests.faults.prometheus import (
    EVALUATION_SECONDS,
    SCRAPE_SECONDS,
    alert_for_seconds,
    wait_for_firing,
)
from tests.faults.report import AlertSeen, CaseReport, flagged_ids, save, store_rows

SERVICE_DOWN = "CallCenterAIServiceDown"
# After the load ends, how long the spool may take to bring every flagged ticket to the store.
STORE_SETTLE_SECONDS = 60
# Then this long more, for a late second copy of a ticket to show up (the spool retries every 5 s at most).
LATE_WRITE_SECONDS = 5


def poll_until(check, seconds: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def account_for_store(stack, report: CaseReport, loads: list[Load]) -> None:
    """Wait until every ticket the agent flagged is in the store (or the settle time is up), then
    count: expected, stored, lost, duplicated; and save the report."""
    expected, answered = flagged_ids(loads)

    def stored() -> set[str]:
        try:
            return {request_id for request_id, _ in store_rows(stack.connect, report.case)}
        except Exception:  # noqa: BLE001 - a database still starting: asked again
            return set()

    poll_until(lambda: expected <= stored(), STORE_SETTLE_SECONDS)
    time.sleep(LATE_WRITE_SECONDS)
    report.add_store(expected, answered, store_rows(stack.connect, report.case))
    save(report)


def alert_after(prometheus_url: str, service: str, since: float, name: str = SERVICE_DOWN) -> AlertSeen:
    """Wait for ``name`` on ``service`` to fire; when it did, against its for: and one scrape."""
    bound = alert_for_seconds(name) + SCRAPE_SECONDS
    fired = wait_for_firing(prometheus_url, name, service, since, bound + EVALUATION_SECONDS + 30)
    return AlertSeen(name, service, fired, bound, bound + EVALUATION_SECONDS)


def metric(url: str, name: str) -> float | None:
    """The first sample of ``name`` (a full series name, labels included) on ``url``/metrics."""
    for line in httpx.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def routes_after(load: Load, index: int) -> set[str]:
    """The route models of the answers that came in after the ``index``-th outcome."""
    return {o.route_model for o in load.outcomes[index:] if o.status == 200}
