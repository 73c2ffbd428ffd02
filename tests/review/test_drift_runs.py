"""Drift runs saved and read back on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from callcenterai.review.drift_runs import latest_drift_run, save_drift_run


def drift_run(created_at: str, score: float) -> dict:
    check = {
        "score": score,
        "threshold": 0.2,
        "drifted": score > 0.2,
        "method": "psi",
        "detail": {"bins": 10},
    }
    return {
        "created_at": created_at,
        "window_tickets": 1000,
        "reference_tickets": 5000,
        "drifted": check["drifted"],
        "checks": {"text_length": check},
        "report_path": "reports/drift.html",
    }


def test_no_run_yet_reads_as_none(store):
    assert latest_drift_run(store) is None


def test_the_latest_run_is_the_newest_by_time_not_the_last_saved(store):
    newest = drift_run("2026-03-02T10:00:00+00:00", 0.35)
    first = save_drift_run(store, newest)
    second = save_drift_run(store, drift_run("2026-03-01T10:00:00+01:00", 0.05))
    assert second != first
    latest = latest_drift_run(store)
    assert latest == {**newest, "id": first}


def test_a_run_without_time_or_report_gets_now_and_none(store):
    run = {**drift_run("", 0.1), "report_path": None}
    save_drift_run(store, run)
    latest = latest_drift_run(store)
    assert latest["report_path"] is None and latest["created_at"].endswith("+00:00")
    assert latest["checks"]["text_length"]["drifted"] is False
