"""The CallCenterAI overview dashboard: traffic, routing, models, the review store, drift and the
challengers on one page.

The request, review-rate and transformer-rate panels read the recording rules of
deploy/prometheus/rules/recording.yml, the series the alerts read; the others query the
services' metrics directly, counters as per-second rates over Grafana's ``$__rate_interval``.
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import TimeZoneBrowser
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, VariableRefresh, VariableSort

from callcenterai.config import PROJECT_ROOT
from callcenterai.dashboards.agent_rows import backends_and_review_store_row, routing_row
from callcenterai.dashboards.drift_rows import drift_and_challenger_row
from callcenterai.dashboards.panels import DATASOURCE
from callcenterai.dashboards.service_rows import models_row, requests_row

OVERVIEW_JSON = PROJECT_ROOT / "deploy" / "grafana" / "dashboards" / "callcenterai-overview.json"


def _service_variable() -> QueryVariable:
    return (
        QueryVariable("job")
        .label("Service")
        .description("The services (Prometheus jobs) the request panels show.")
        .datasource(DATASOURCE)
        .query("label_values(callcenterai_requests_total, job)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def build_overview() -> Dashboard:
    dashboard = (
        Dashboard("CallCenterAI overview")
        .uid("callcenterai-overview")
        .description(
            "Traffic, routing, models, review store, drift and challengers of the CallCenterAI services."
        )
        .tags(["callcenterai"])
        .readonly()
        .timezone(TimeZoneBrowser)
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .time("now-1h", "now")
        .refresh("30s")
        .with_variable(_service_variable())
    )
    rows = (requests_row, routing_row, models_row, backends_and_review_store_row, drift_and_challenger_row)
    for row in rows:
        dashboard = row(dashboard)
    return dashboard


def overview_json() -> str:
    """The dashboard as provisioned: panels numbered in order, keys sorted, so a diff shows what changed."""
    model = build_overview().build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return json.dumps(model, cls=JSONEncoder, sort_keys=True, indent=2) + "\n"


def write_overview(path: Path = OVERVIEW_JSON) -> Path:
    path.write_text(overview_json(), encoding="utf-8")
    return path
