"""Each drift run's scores, kept so the agent can publish the latest as Prometheus gauges."""

from __future__ import annotations

from sqlalchemy import select

from callcenterai.review.schema import DriftRun, as_utc, utc_now
from callcenterai.review.store import ReviewStore


def save_drift_run(store: ReviewStore, run: dict) -> int:
    """Store a run (created_at ISO string or datetime, window_tickets, reference_tickets, drifted,
    checks, report_path); its id."""
    row = DriftRun(
        created_at=as_utc(run["created_at"]) if run.get("created_at") else utc_now(),
        window_tickets=int(run["window_tickets"]),
        reference_tickets=int(run["reference_tickets"]),
        drifted=bool(run["drifted"]),
        checks=run["checks"],
        report_path=str(run["report_path"]) if run.get("report_path") else None,
    )
    with store.sessions.begin() as session:
        session.add(row)
        session.flush()
        return row.id


def latest_drift_run(store: ReviewStore) -> dict | None:
    """The newest run as saved (created_at an ISO string in UTC, plus its id), or None before the first."""
    query = select(DriftRun).order_by(DriftRun.created_at.desc(), DriftRun.id.desc()).limit(1)
    with store.sessions() as session:
        run = session.scalars(query).first()
    if run is None:
        return None
    return {
        "id": run.id,
        "created_at": as_utc(run.created_at).isoformat(),
        "window_tickets": run.window_tickets,
        "reference_tickets": run.reference_tickets,
        "drifted": run.drifted,
        "checks": run.checks,
        "report_path": run.report_path,
    }
