"""The stack's pieces that need no process: ports, secrets, the scrape config, what each service is
started with, and what `up` prints."""

from __future__ import annotations

import stat
import subprocess

import pytest
import yaml

from callcenterai.agent.settings import AgentSettings
from callcenterai.httpkit.settings import settings_from_env
from callcenterai.serving.settings import ClassifierSettings
from callcenterai.stack.layout import (
    DEFAULT_PORTS,
    HOST,
    StackError,
    StackLayout,
    parse_port_override,
    resolve_ports,
)
from callcenterai.stack.prometheus import TEMPLATE, scrape_config, write_scrape_config
from callcenterai.stack.records import Started
from callcenterai.stack.report import up_report
from callcenterai.stack.secrets import SECRETS, ensure_secrets, masked
from callcenterai.stack.services import stack_plan
from callcenterai.web.settings import WebSettings

SETTINGS_OF = {
    "tfidf_svc": (ClassifierSettings, {"service": "tfidf_svc", "kind": "tfidf"}),
    "transformer_svc": (ClassifierSettings, {"service": "transformer_svc", "kind": "transformer"}),
    "agent": (AgentSettings, {}),
    "web_interface": (WebSettings, {}),
}
READ_BY_MLFLOW = {"MLFLOW_TRACKING_URI"}  # the classifier services' registry: MLflow's client reads it


def test_ports_move_by_the_offset_and_one_service_can_be_given_its_own():
    ports = resolve_ports(10000, dict([parse_port_override("agent=18500")]))
    assert ports["agent"] == 18500
    assert all(ports[name] == port + 10000 for name, port in DEFAULT_PORTS.items() if name != "agent")


@pytest.mark.parametrize(
    "offset, overrides, problem",
    [
        (0, {"nginx": 80}, "no service named nginx"),
        (0, {"agent": 8001}, "two services on one port"),
        (60000, {}, "out of range"),
    ],
)
def test_ports_that_cannot_work_are_refused_with_the_reason(offset, overrides, problem):
    with pytest.raises(StackError, match=problem):
        resolve_ports(offset, overrides)


def test_a_port_override_must_name_a_port():
    with pytest.raises(StackError, match="SERVICE=PORT"):
        parse_port_override("agent")


def test_secrets_are_made_once_readable_by_their_owner_only(tmp_path):
    folder = tmp_path / "secrets"
    first = ensure_secrets(folder)
    assert set(first) == set(SECRETS) and len(set(first.values())) == len(SECRETS)
    assert all(len(value) == 64 and int(value, 16) >= 0 for value in first.values())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((folder / name).stat().st_mode) == 0o600 for name in SECRETS)
    (folder / "api_key").write_text("\n")  # emptied by hand: made anew, the others kept
    second = ensure_secrets(folder)
    assert second["api_key"] != first["api_key"] and second["session_secret"] == first["session_secret"]


def test_a_masked_secret_shows_too_little_to_use():
    secret = "ab" * 32
    assert secret not in masked(secret) and len(masked(secret).rstrip("…")) <= 4


def test_every_service_is_scraped_on_its_own_port(tmp_path):
    ports = resolve_ports(123)
    config = scrape_config(ports)
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {name: [f"{HOST}:{port}"] for name, port in ports.items()}


def test_a_template_missing_a_service_is_refused(tmp_path):
    template = yaml.safe_load(TEMPLATE.read_text())
    template["scrape_configs"] = [job for job in template["scrape_configs"] if job["job_name"] != "agent"]
    short = tmp_path / "short.yml"
    short.write_text(yaml.safe_dump(template))
    with pytest.raises(StackError, match="agent"):
        scrape_config(resolve_ports(), short)


@pytest.mark.parametrize("which", ["template", "written"])
def test_prometheus_accepts_the_template_and_the_written_config(tmp_path, which):
    path = TEMPLATE if which == "template" else write_scrape_config(tmp_path / "p.yml", resolve_ports(7))
    checked = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _plan(tmp_path):
    layout = StackLayout(project=tmp_path, state=tmp_path / ".stack", ports=resolve_ports(1))
    return layout, stack_plan(layout, ensure_secrets(layout.secrets), tmp_path / "prometheus.yml")


def test_every_process_listens_on_loopback_only(tmp_path):
    _, plan = _plan(tmp_path)
    assert [spec.name for spec in plan] and {spec.name for spec in plan} == set(DEFAULT_PORTS)
    for spec in plan:
        words = " ".join(spec.command)
        assert "0.0.0.0" not in words and (f"{HOST} " in words or f"{HOST}:{spec.port}" in words)
        assert spec.url == f"http://{HOST}:{spec.port}"


@pytest.mark.parametrize("name", sorted(SETTINGS_OF))
def test_each_service_gets_only_variables_it_reads_and_they_validate(tmp_path, monkeypatch, name):
    _, plan = _plan(tmp_path)
    spec = next(spec for spec in plan if spec.name == name)
    cls, fixed = SETTINGS_OF[name]
    known = {field.validation_alias for field in cls.model_fields.values()} | READ_BY_MLFLOW
    assert set(spec.env) <= known
    for variable in known - READ_BY_MLFLOW:
        monkeypatch.delenv(str(variable), raising=False)
    for variable, value in spec.env.items():
        monkeypatch.setenv(variable, value)
    settings = settings_from_env(cls, **fixed)  # raises SettingsError naming a bad value
    if name == "web_interface":
        assert settings.cookie_secure is False and settings.reviewers_file is not None


def test_the_callers_keys_are_the_ones_their_callees_accept(tmp_path):
    _, plan = _plan(tmp_path)
    env = {spec.name: spec.env for spec in plan}
    assert (
        env["agent"]["BACKEND_CLIENT_KEY"]
        == env["tfidf_svc"]["CLIENT_KEYS"]
        == env["transformer_svc"]["CLIENT_KEYS"]
    )
    assert env["web_interface"]["AGENT_CLIENT_KEY"] == env["agent"]["CLIENT_KEYS"]
    assert env["agent"]["CLIENT_KEYS"] != env["agent"]["BACKEND_CLIENT_KEY"]
    assert env["tfidf_svc"]["MODEL_URI"] == "models:/callcenterai-tfidf-classifier@production"


def test_up_says_where_everything_is_and_how_to_sign_in_without_printing_a_secret(tmp_path):
    layout, plan = _plan(tmp_path)
    entries = [
        Started(spec.name, 1000 + n, 1, spec.url, spec.ready_url, str(layout.log(spec.name)))
        for n, spec in enumerate(plan)
    ]
    text = up_report(layout, entries, 12.3, "")
    for entry in entries:
        row = next(line for line in text.splitlines() if line.startswith(entry.name + " "))
        assert entry.url in row and str(entry.pid) in row and entry.log in row
    assert f"python scripts/add_reviewer.py NAME --file {layout.reviewers_file}" in text
    assert "COOKIE_SECURE=0" in text and str(layout.secrets / "api_key") in text
    for name in SECRETS:
        assert (layout.secrets / name).read_text().strip() not in text
