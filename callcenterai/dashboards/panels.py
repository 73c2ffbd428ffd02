"""The panel kinds the dashboards use, each on the provisioned Prometheus datasource.

Every query names the datasource itself too: Grafana resolves a query's datasource
before its panel's, and a panel copied to another dashboard keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import ascii_uppercase

from grafana_foundation_sdk.builders import heatmap, prometheus, statetimeline, table, timeseries
from grafana_foundation_sdk.builders.common import StackingConfig, VizLegendOptions
from grafana_foundation_sdk.builders.dashboard import Dashboard, Row
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement, StackingMode
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DataTransformerConfig,
    Panel,
    ValueMap,
    ValueMappingResult,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

# deploy/grafana/provisioning/datasources/prometheus.yml provisions it under this uid
# (tests/deploy/test_grafana_provisioning.py holds every panel to the provisioned uids).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
# Grafana's window for rate(): at least four scrape intervals, so a missed scrape leaves no gap.
RATE_WINDOW = "$__rate_interval"
TICKETS_PER_SECOND = "suffix: tickets/s"


def rate_by(metric: str, labels: str) -> str:
    """A counter's (or histogram bucket's) per-second rate, summed over every label but ``labels``."""
    return f"sum by ({labels}) (rate({metric}[{RATE_WINDOW}]))"


def add_row(dashboard: Dashboard, title: str, panels: list[Builder[Panel]]) -> Dashboard:
    """A row and its panels after it, laid out left to right (24 columns a line)."""
    dashboard = dashboard.with_row(Row(title))
    for panel in panels:
        dashboard = dashboard.with_panel(panel)
    return dashboard


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def _targets(queries: list[Query], query_format: PromQueryFormat) -> list[prometheus.Dataquery]:
    return [
        prometheus.Dataquery()
        .ref_id(ref_id)
        .datasource(DATASOURCE)
        .expr(query.expr)
        .legend_format(query.legend)
        .format(query_format)
        for ref_id, query in zip(ascii_uppercase, queries)
    ]


def _legend() -> VizLegendOptions:
    return (
        VizLegendOptions()
        .display_mode(LegendDisplayMode.TABLE)
        .placement(LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(["lastNotNull", "max"])
    )


def time_series(
    title: str, description: str, unit: str, queries: list[Query], width: int = 8, stacked: bool = False
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, PromQueryFormat.TIME_SERIES))
        .unit(unit)
        .min(0)
        .span(width)
        .height(8)
        .legend(_legend())
        .fill_opacity(25 if stacked else 0)
    )
    if stacked:
        panel = panel.stacking(StackingConfig().mode(StackingMode.NORMAL))
    return panel


def bucket_heatmap(title: str, description: str, unit: str, query: Query, width: int = 8) -> heatmap.Panel:
    """A histogram's buckets over time, as Prometheus counted them (Grafana does not re-bucket)."""
    return (
        heatmap.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query], PromQueryFormat.HEATMAP))
        .calculate(False)
        .unit(unit)
        .span(width)
        .height(8)
    )


def on_off_timeline(
    title: str,
    description: str,
    query: Query,
    on: str,
    off: str,
    width: int = 8,
    colors: tuple[str, str] = ("red", "green"),
) -> statetimeline.Panel:
    """A 0/1 gauge as a band per series: ``on`` in the first color (red: a fault), ``off`` in the second."""
    states = ValueMap(
        {
            "0": ValueMappingResult(text=off, color=colors[1], index=0),
            "1": ValueMappingResult(text=on, color=colors[0], index=1),
        }
    )
    return (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query], PromQueryFormat.TIME_SERIES))
        .mappings([states])
        .span(width)
        .height(8)
    )


def labels_table(
    title: str, description: str, query: Query, hidden: list[str], width: int = 8
) -> table.Panel:
    """The labels of an instant query's series, one row each (for info metrics)."""
    hide = DataTransformerConfig(
        id_val="organize", options={"excludeByName": {name: True for name in hidden}}
    )
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets([target.instant() for target in _targets([query], PromQueryFormat.TABLE)])
        .with_transformation(hide)
        .span(width)
        .height(8)
    )
