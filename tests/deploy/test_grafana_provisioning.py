"""Grafana's provisioning files, checked against the shape Grafana reads (Grafana cannot run here).

The models below are the parts of Grafana's provisioning format (datasources,
dashboard providers) and dashboard JSON that the repository's files use, with
unknown keys refused, so a typo fails here instead of being ignored by Grafana
at start. The cross-checks tie the files to docker-compose.yml: the datasource
points at the stack's Prometheus, the provider reads the folder compose mounts,
and every panel names a provisioned datasource.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from callcenterai.config import PROJECT_ROOT

GRAFANA = PROJECT_ROOT / "deploy" / "grafana"
COMPOSE = PROJECT_ROOT / "docker-compose.yml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Datasource(Strict):
    name: str
    uid: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,40}$")
    type: Literal["prometheus"]
    access: Literal["proxy", "direct"] = "proxy"
    url: str = Field(pattern=r"^https?://")
    isDefault: bool = False
    editable: bool = False
    orgId: int = 1
    jsonData: dict = {}


class DatasourceFile(Strict):
    apiVersion: Literal[1]
    datasources: list[Datasource] = Field(min_length=1)


class ProviderOptions(Strict):
    path: str = Field(pattern=r"^/")
    foldersFromFilesStructure: bool = False


class Provider(Strict):
    name: str
    orgId: int = 1
    folder: str = ""
    type: Literal["file"]
    disableDeletion: bool = False
    allowUiUpdates: bool = False
    updateIntervalSeconds: int = Field(10, gt=0)
    options: ProviderOptions


class ProviderFile(Strict):
    apiVersion: Literal[1]
    providers: list[Provider] = Field(min_length=1)


class PanelDatasource(Strict):
    type: str
    uid: str


class Target(Strict):  # a Prometheus query: the keys Grafana's Prometheus query editor writes
    refId: str = Field(pattern=r"^[A-Z]$")
    datasource: PanelDatasource
    expr: str = Field(min_length=1)
    legendFormat: str = ""
    format: Literal["time_series", "table", "heatmap"] = "time_series"
    instant: bool = False
    range: bool = True


class GridPos(Strict):
    h: int = Field(gt=0)
    w: int = Field(gt=0, le=24)
    x: int = Field(ge=0, lt=24)
    y: int = Field(ge=0)


class Panel(BaseModel):  # panels carry many optional display keys: only what Grafana needs is checked
    id: int
    type: str
    title: str
    datasource: PanelDatasource
    gridPos: GridPos
    targets: list[Target] = Field(min_length=1)


class RowPanel(Strict):  # an expanded row: its panels follow it in the dashboard's list
    id: int
    type: Literal["row"]
    title: str = Field(min_length=1)
    gridPos: GridPos
    collapsed: Literal[False]
    panels: list = Field(max_length=0)


class Dashboard(BaseModel):
    uid: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,40}$")
    title: str = Field(min_length=1)
    schemaVersion: int = Field(ge=30)
    panels: list[RowPanel | Panel] = Field(min_length=1)


def _yaml_files(folder: str) -> list[Path]:
    return sorted((GRAFANA / "provisioning" / folder).glob("*.yml"))


def _compose_service(name: str) -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"][name]


def _datasources() -> list[Datasource]:
    return [
        ds
        for path in _yaml_files("datasources")
        for ds in DatasourceFile(**yaml.safe_load(path.read_text())).datasources
    ]


@pytest.mark.parametrize("path", _yaml_files("datasources"), ids=lambda p: p.name)
def test_each_datasource_file_has_grafanas_shape(path):
    DatasourceFile(**yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", _yaml_files("dashboards"), ids=lambda p: p.name)
def test_each_dashboard_provider_file_has_grafanas_shape_and_reads_the_mounted_folder(path):
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in _compose_service("grafana")["volumes"]}
    for provider in ProviderFile(**yaml.safe_load(path.read_text())).providers:
        assert provider.options.path in mounts, f"{provider.name} reads a folder compose does not mount"
        assert (PROJECT_ROOT / mounts[provider.options.path]).resolve() == GRAFANA / "dashboards"


def test_the_default_datasource_is_the_stacks_prometheus():
    datasources = _datasources()
    assert [ds.isDefault for ds in datasources].count(True) == 1
    prometheus = next(ds for ds in datasources if ds.isDefault)
    assert prometheus.url == "http://prometheus:9090"  # the service name and its container port
    assert "prometheus" in yaml.safe_load(COMPOSE.read_text())["services"]


def test_every_dashboard_is_valid_json_with_unique_uids_and_known_datasources():
    uids = {ds.uid for ds in _datasources()}
    dashboards = sorted((GRAFANA / "dashboards").glob("*.json"))
    assert dashboards, "the provider's folder holds at least one dashboard"
    seen = set()
    for path in dashboards:
        dashboard = Dashboard(**json.loads(path.read_text()))
        assert dashboard.uid not in seen, f"{path.name}: uid {dashboard.uid} used twice"
        seen.add(dashboard.uid)
        panels = [panel for panel in dashboard.panels if isinstance(panel, Panel)]
        assert panels, f"{path.name} has rows but no panel"
        ids = [panel.id for panel in dashboard.panels]
        assert len(set(ids)) == len(ids), f"{path.name}: a panel id used twice"
        for panel in panels:
            named = {panel.datasource.uid} | {target.datasource.uid for target in panel.targets}
            assert named <= uids, f"{path.name} panel {panel.title!r} names an unprovisioned datasource"


def test_a_provisioning_file_with_a_typo_is_refused():
    broken = yaml.safe_load(_yaml_files("datasources")[0].read_text())
    broken["datasources"][0]["isDefualt"] = True
    with pytest.raises(ValueError, match="isDefualt"):
        DatasourceFile(**broken)
