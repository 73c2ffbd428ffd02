"""The rows every service and classifier fills: requests, errors and latency; the models served."""

from __future__ import annotations

from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Panel

from callcenterai.dashboards.panels import (
    RATE_WINDOW,
    Query,
    add_row,
    bucket_heatmap,
    labels_table,
    rate_by,
    time_series,
)

SERVICE = 'job=~"$job"'  # the dashboard's service variable; "All" stands for every job
PER_ROUTE = "{{job}} {{endpoint}}"


def _latency_per_route(quantile: str) -> timeseries.Panel:
    return time_series(
        f"Latency {quantile} per route",
        f"The {quantile[1:]}th percentile of request latency per service and route, over 5 minutes.",
        "s",
        [Query(f"job_endpoint:callcenterai_request_latency_seconds:{quantile}_5m{{{SERVICE}}}", PER_ROUTE)],
    )


def requests_row(dashboard: Dashboard) -> Dashboard:
    return add_row(
        dashboard,
        "Requests per service",
        [
            time_series(
                "Requests per second",
                "Every request a service answered but Prometheus's scrapes, over 5 minutes.",
                "reqps",
                [Query(f"job:callcenterai_requests:rate5m{{{SERVICE}}}", "{{job}}")],
            ),
            time_series(
                "Error ratio (5xx)",
                "The share of a service's requests answered with a 5xx status, over 5 minutes.",
                "percentunit",
                [Query(f"job:callcenterai_requests_5xx:ratio_rate5m{{{SERVICE}}}", "{{job}}")],
            ),
            time_series(
                "Latency p99 per service",
                "The 99th percentile of request latency, all routes of a service together, over 5 minutes.",
                "s",
                [Query(f"job:callcenterai_request_latency_seconds:p99_5m{{{SERVICE}}}", "{{job}}")],
            ),
            *(_latency_per_route(quantile) for quantile in ("p50", "p95", "p99")),
            time_series(
                "Requests per second per route",
                "Requests per service and route (Prometheus's scrapes of /metrics too), over 5 minutes.",
                "reqps",
                [Query(f"job_endpoint:callcenterai_requests:rate5m{{{SERVICE}}}", PER_ROUTE)],
                width=12,
            ),
            time_series(
                "Error ratio (5xx) per route",
                "The share of a route's requests answered with a 5xx status, over 5 minutes.",
                "percentunit",
                [Query(f"job_endpoint:callcenterai_requests_5xx:ratio_rate5m{{{SERVICE}}}", PER_ROUTE)],
                width=12,
            ),
        ],
    )


def _confidence_and_labels() -> list[Builder[Panel]]:
    agent_buckets = f"sum by (le) (increase(callcenterai_agent_confidence_bucket[{RATE_WINDOW}]))"
    confidence = rate_by("callcenterai_prediction_confidence_bucket", "job, le")
    predictions = rate_by("callcenterai_predictions_total", "job, label")
    return [
        bucket_heatmap(
            "Confidence of the agent's answers",
            "How many answers fell in each confidence bucket (the top probability of the final answer).",
            "percentunit",
            Query(agent_buckets, "{{le}}"),
        ),
        time_series(
            "Classifier confidence: median and 10th percentile",
            "Each classifier's top probability; a falling 10th percentile is the first sign of drift.",
            "percentunit",
            [
                Query(f"histogram_quantile(0.5, {confidence})", "{{job}} median"),
                Query(f"histogram_quantile(0.1, {confidence})", "{{job}} 10th percentile"),
            ],
        ),
        time_series(
            "Predicted-label mix",
            "Each label's share of a classifier's predictions.",
            "percentunit",
            [
                Query(
                    f"{predictions} / ignoring (label) group_left sum by (job) ({predictions})",
                    "{{job}} {{label}}",
                )
            ],
        ),
    ]


def models_row(dashboard: Dashboard) -> Dashboard:
    versions = [
        Query("callcenterai_model_served_version", "{{job}} served"),
        Query("callcenterai_model_registry_version", "{{job}} production alias"),
    ]
    return add_row(
        dashboard,
        "Models",
        [
            *_confidence_and_labels(),
            labels_table(
                "Models served",
                "The model each classifier serves: registered name, version, kind and where it came from.",
                Query("callcenterai_model_info"),
                hidden=["Time", "Value", "__name__", "instance"],
                width=12,
            ),
            time_series(
                "Served version against the production alias",
                "The registered version each classifier serves, beside the version the registry's production "
                "alias named at the classifier's last successful check.",
                "none",
                versions,
                width=12,
            ),
        ],
    )
