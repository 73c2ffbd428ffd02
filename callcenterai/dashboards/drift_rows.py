"""Day two: live tickets against the training data (the agent's copy of the last drift run), and
the challengers the agent shadows tickets to, beside the champions that answer."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Panel

from callcenterai.dashboards.panels import (
    TICKETS_PER_SECOND,
    Query,
    add_row,
    on_off_timeline,
    rate_by,
    time_series,
)

BY_RESULT = "{{backend}} {{result}}"
# Every agent replica reads the same review store, so each shows the same run: one line per check.
SCORE_OVER_THRESHOLD = (
    "max by (check) (callcenterai_drift_score) / max by (check) (callcenterai_drift_threshold)"
)


def _drift() -> list[Builder[Panel]]:
    return [
        time_series(
            "Drift score against its threshold",
            "Each check's score in the last drift run (scripts/monitor_drift.py) divided by its threshold: "
            "above 1, the check found drift. Empty until the first run.",
            "none",
            [Query(SCORE_OVER_THRESHOLD, "{{check}}")],
        ),
        on_off_timeline(
            "Drift detected",
            "Per check, whether the last drift run found live tickets unlike the training data "
            "(the drift alert fires on it).",
            Query("max by (check) (callcenterai_drift_detected)", "{{check}}"),
            on="drifted",
            off="no drift",
        ),
        time_series(
            "Time since the last drift run",
            "How old the last drift run the agent reads is; meant to run daily (an alert past 26 hours).",
            "s",
            [Query("time() - max(callcenterai_drift_last_run_timestamp_seconds)", "since the last run")],
        ),
    ]


def _shadowing() -> list[Builder[Panel]]:
    return [
        time_series(
            "Challenger agreement with the champion",
            "Of the tickets both answered over 10 minutes, the share on which a backend's challenger gave "
            "the champion's label.",
            "percentunit",
            [Query("job_backend:callcenterai_shadow_agreement:ratio_rate10m", "{{backend}}")],
        ),
        time_series(
            "Shadowed tickets by result",
            "Tickets sent to a backend's challenger after the answer: agreed or disagreed with the champion, "
            "failed (timeout, 5xx, unreachable), dropped (the shadow queue was full).",
            TICKETS_PER_SECOND,
            [Query(rate_by("callcenterai_shadow_tickets_total", "backend, result"), BY_RESULT)],
            stacked=True,
        ),
        time_series(
            "Challenger latency p95",
            "The 95th percentile of a challenger call (one batch of shadowed tickets), over 10 minutes.",
            "s",
            [Query("job_backend:callcenterai_shadow_latency_seconds:p95_10m", "{{backend}}")],
        ),
    ]


def drift_and_challenger_row(dashboard: Dashboard) -> Dashboard:
    # Counted once per version, so a rate would be a blip: the last hour's count, as the alert reads it.
    failures = "sum by (job, cause) (increase(callcenterai_challenger_load_failures_total[1h]))"
    return add_row(
        dashboard,
        "Drift and challenger",
        [
            *_drift(),
            *_shadowing(),
            on_off_timeline(
                "Challenger served",
                "Per classifier, whether it serves a challenger beside the champion (the registry's "
                "challenger alias).",
                Query("max by (job) (callcenterai_challenger_loaded)", "{{job}}"),
                on="serving",
                off="none",
                width=12,
                colors=("blue", "transparent"),
            ),
            time_series(
                "Challenger versions not loaded, last hour",
                "Challenger versions a classifier refused (labels_differ: not the champion's labels) or "
                "could not load (load_failed) in the last hour; the champion serves as before.",
                "none",
                [Query(failures, "{{job}} {{cause}}")],
                width=12,
            ),
        ],
    )
