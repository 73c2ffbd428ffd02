"""The committed dashboard's queries as Grafana sends them to Prometheus, and the metric names they read."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from callcenterai.agent.drift_gauges import DriftGauges
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.config import PROJECT_ROOT
from callcenterai.dashboards.overview import OVERVIEW_JSON
from callcenterai.httpkit.metrics import HttpMetrics
from callcenterai.serving.metrics import ClassifierMetrics

RECORDING_RULES = PROJECT_ROOT / "deploy" / "prometheus" / "rules" / "recording.yml"
# What Grafana puts for $__rate_interval with the datasource's 15 s scrape interval: four of them.
RATE_INTERVAL = "1m"
# The series names prometheus_client exports for each kind of metric it registers.
WIRE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "info": ("_info",),
}


@dataclass(frozen=True)
class PanelQuery:
    panel: str
    ref_id: str
    expr: str  # with the dashboard's variables replaced, as Prometheus receives it

    @property
    def name(self) -> str:
        return f"{self.panel} [{self.ref_id}]"


def committed_dashboard() -> dict:
    return json.loads(OVERVIEW_JSON.read_text(encoding="utf-8"))


def panels(dashboard: dict) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def expand(expr: str, dashboard: dict) -> str:
    """``expr`` with Grafana's rate interval and each variable at "All" (its ``allValue``)."""
    expanded = expr.replace("$__rate_interval", RATE_INTERVAL)
    for variable in dashboard.get("templating", {}).get("list", []):
        expanded = expanded.replace(f"${variable['name']}", variable["allValue"])
    assert "$" not in expanded, f"a variable the test does not know in {expr!r}"
    return expanded


def panel_queries(dashboard: dict) -> list[PanelQuery]:
    return [
        PanelQuery(panel["title"], target["refId"], expand(target["expr"], dashboard))
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def metric_names(expr: str) -> set[str]:
    """The project's series an expression reads: the identifiers naming callcenterai metrics or rules."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    return {
        name for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_strings) if "callcenterai_" in name
    }


def _wire_names(registry: CollectorRegistry) -> set[str]:
    return {family.name + suffix for family in registry.collect() for suffix in WIRE_SUFFIXES[family.type]}


def exported_names() -> set[str]:
    """Every series the services' metric classes define, as Prometheus scrapes them; the agent's
    drift gauges too (a collector the agent adds to its registry when it has a review store)."""
    services = (AgentMetrics("agent"), ClassifierMetrics("tfidf_svc"), HttpMetrics("web_interface"))
    DriftGauges(services[0].registry, reader=lambda: None)
    return set().union(*(_wire_names(metrics.registry) for metrics in services))


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RECORDING_RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def promtool_parse(exprs: list[str], folder: Path) -> subprocess.CompletedProcess:
    """`promtool check rules` over the expressions as recording rules: PromQL parsed offline."""
    rules = [{"record": f"dashboard:query_{number}:check", "expr": expr} for number, expr in enumerate(exprs)]
    path = folder / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    return subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
