"""The agent's rows: how it routes tickets against its policy, its backends and the review store."""

from __future__ import annotations

from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue

from callcenterai.dashboards.panels import (
    TICKETS_PER_SECOND,
    Query,
    add_row,
    on_off_timeline,
    rate_by,
    time_series,
)

SECONDS_ON_THE_RIGHT = [
    DynamicConfigValue(id_val="unit", value="s"),
    DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
]


def _routes_against_the_policy() -> list[timeseries.Panel]:
    return [
        time_series(
            "Routes by model and reason",
            "Tickets by the model that answered and why it was chosen; a ticket sent to the transformer "
            "for two reasons counts under each.",
            TICKETS_PER_SECOND,
            [Query(rate_by("callcenterai_agent_routes_total", "model, reason"), "{{model}} ({{reason}})")],
            stacked=True,
        ),
        time_series(
            "Transformer call rate against the policy",
            "The share of answered tickets sent to the transformer over 5 minutes, beside the rate the "
            "routing policy in use was fitted to expect.",
            "percentunit",
            [
                Query("job:callcenterai_agent_transformer_calls:ratio_rate5m", "observed"),
                Query("callcenterai_agent_policy_expected_transformer_rate", "policy expects"),
            ],
        ),
        time_series(
            "Review rate against the policy",
            "The share of answered tickets flagged for review over 5 minutes, beside the rate the policy "
            "expects (the review-rate alert compares the two).",
            "percentunit",
            [
                Query("job:callcenterai_agent_review:ratio_rate5m", "observed"),
                Query("callcenterai_agent_policy_expected_review_rate", "policy expects"),
            ],
        ),
    ]


def routing_row(dashboard: Dashboard) -> Dashboard:
    return add_row(
        dashboard,
        "Agent routing",
        [
            *_routes_against_the_policy(),
            time_series(
                "Flagged for review, by reason",
                "Tickets flagged for review: low confidence or a language the models were not trained on.",
                TICKETS_PER_SECOND,
                [Query(rate_by("callcenterai_agent_review_flags_total", "reason"), "{{reason}}")],
                width=12,
                stacked=True,
            ),
            time_series(
                "Personal data found, by type",
                "Personal data the agent found and removed before any model read the ticket.",
                "suffix: entities/s",
                [Query(rate_by("callcenterai_agent_pii_entities_total", "type"), "{{type}}")],
                width=12,
                stacked=True,
            ),
        ],
    )


def backends_and_review_store_row(dashboard: Dashboard) -> Dashboard:
    circuit = Query("max by (backend) (callcenterai_agent_circuit_open)", "{{backend}}")
    spool = [
        Query("sum(callcenterai_agent_review_spool_depth)", "waiting tickets"),
        Query("max(callcenterai_agent_review_spool_oldest_seconds)", "oldest waiting"),
    ]
    return add_row(
        dashboard,
        "Backends and review store",
        [
            on_off_timeline(
                "Circuit state",
                "Open while the agent skips a backend after repeated failures; the other model answers.",
                circuit,
                on="open",
                off="closed",
            ),
            time_series(
                "Review-store writes by result",
                "Flagged tickets offered to the review store: written, error (the database failed), dropped, "
                "duplicate, rate_limited.",
                TICKETS_PER_SECOND,
                [Query(rate_by("callcenterai_agent_review_store_total", "result"), "{{result}}")],
                stacked=True,
            ),
            time_series(
                "Review spool",
                "Flagged tickets on the agent's disk waiting for the review store, and how long the oldest "
                "has waited (seconds, right axis).",
                "none",
                spool,
            ).override_by_query("B", SECONDS_ON_THE_RIGHT),
        ],
    )
