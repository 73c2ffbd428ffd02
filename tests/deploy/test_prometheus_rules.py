"""The Prometheus rules under test by promtool: both scrape configs load them, they parse, their unit
tests (deploy/prometheus/tests) pass, every alert has a firing and a quiet case there, and every
alert's runbook is a heading of MLOPS_GUIDE.md. Fast: promtool runs offline in a second or two."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.stack.layout import resolve_ports
from callcenterai.stack.prometheus import write_scrape_config
from tests.deploy.compose_stack import compose_services

PROMETHEUS = PROJECT_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules"
RULE_FILES = sorted(RULES.glob("*.yml"))
UNIT_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
ALERTS = RULES / "alerts.yml"
GUIDE = PROJECT_ROOT / "MLOPS_GUIDE.md"
# The unit tests' timings and promtool's exact float comparisons are those of this version
# (Debian bookworm's prometheus package, which setup_mlops.py installs).
PROMTOOL_VERSION = "2.42."


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True, timeout=120)


def said(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def alert_rules(path: Path = ALERTS) -> list[dict]:
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def loaded_rule_files(config: dict) -> set[Path]:
    """The files a config's ``rule_files`` patterns (absolute paths) find."""
    return {found for pattern in config["rule_files"] for found in Path("/").glob(pattern.lstrip("/"))}


def test_promtool_is_the_version_the_rule_tests_expect():
    found = promtool("--version")
    first_line = said(found).splitlines()[0] if said(found) else ""
    version = re.search(r"version (\S+)", first_line)
    assert version and version.group(1).startswith(
        PROMTOOL_VERSION
    ), f"promtool {PROMTOOL_VERSION}x expected (Debian's prometheus package), found: {first_line!r}"


def test_the_rules_parse():
    checked = promtool("check", "rules", *RULE_FILES)
    assert checked.returncode == 0, said(checked)


def test_the_rules_pass_their_unit_tests():
    tested = promtool("test", "rules", *UNIT_TESTS)
    assert tested.returncode == 0, said(tested)


def test_the_process_stacks_config_as_written_loads_the_repositorys_rules(tmp_path):
    config_path = write_scrape_config(tmp_path / "prometheus.yml", resolve_ports(7))
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    assert loaded_rule_files(config) == set(RULE_FILES)
    assert config["global"]["evaluation_interval"] == "5s"
    checked = promtool("check", "config", config_path)
    assert checked.returncode == 0, said(checked)


def compose_prometheus_layout(root: Path) -> Path:
    """The files docker-compose.yml mounts into the prometheus container, at their container paths
    under ``root``; returns where the config is. The config's own paths are rooted there too."""
    config_path = None
    for volume in compose_services()["prometheus"]["volumes"]:
        source, target = volume.split(":")[:2]
        if not source.startswith("./"):
            continue  # a named volume: the database
        source_path, target_path = PROJECT_ROOT / source, root / target.lstrip("/")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        if source_path.is_dir():
            shutil.copytree(source_path, target_path)
        else:
            shutil.copy(source_path, target_path)
        if target == "/etc/prometheus/prometheus.yml":
            config_path = target_path
    assert config_path is not None, "docker-compose.yml mounts no /etc/prometheus/prometheus.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["rule_files"] = [str(root / pattern.lstrip("/")) for pattern in config["rule_files"]]
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return config_path


def test_the_compose_config_loads_the_rules_docker_compose_mounts(tmp_path):
    config_path = compose_prometheus_layout(tmp_path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    assert {path.name for path in loaded_rule_files(config)} == {path.name for path in RULE_FILES}
    checked = promtool("check", "config", config_path)
    assert checked.returncode == 0, said(checked)


def alert_tests(paths: list[Path]) -> list[dict]:
    """Every alert_rule_test case of the unit test files."""
    cases = []
    for path in paths:
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            cases += test.get("alert_rule_test", [])
    return cases


def untested_alerts(alerts: list[dict], cases: list[dict]) -> list[str]:
    """What an alert lacks: a case where it fires with its labels and annotations, and one where
    it is expected not to fire."""
    problems = []
    for name in sorted({rule["alert"] for rule in alerts}):
        own = [case for case in cases if case["alertname"] == name]
        firing = [
            alert
            for case in own
            for alert in case.get("exp_alerts") or []
            if {"severity", "service"} <= set(alert.get("exp_labels", {}))
            and {"summary", "description", "runbook_url"} <= set(alert.get("exp_annotations", {}))
        ]
        if not firing:
            problems.append(f"{name}: no case where it fires with exp_labels and exp_annotations")
        if not any(not case.get("exp_alerts") for case in own):
            problems.append(f"{name}: no case where it must not fire (empty exp_alerts)")
    return problems


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    assert untested_alerts(alert_rules(), alert_tests(UNIT_TESTS)) == []


def test_a_new_alert_without_unit_tests_is_caught(tmp_path):
    alerts = alert_rules() + [{"alert": "CallCenterAINewAlert", "expr": "vector(1)"}]
    assert untested_alerts(alerts, alert_tests(UNIT_TESTS)) == [
        "CallCenterAINewAlert: no case where it fires with exp_labels and exp_annotations",
        "CallCenterAINewAlert: no case where it must not fire (empty exp_alerts)",
    ]


def test_a_wrong_expectation_fails_promtool(tmp_path):
    """The unit tests can fail: a copy whose firing ServiceDown case expects another severity."""
    shutil.copytree(PROMETHEUS / "rules", tmp_path / "rules")
    (tmp_path / "tests").mkdir()
    source = (PROMETHEUS / "tests" / "alerts_test.yml").read_text(encoding="utf-8")
    firing = "severity: critical\n              service: tfidf_svc"
    wrong = source.replace(firing, firing.replace("critical", "page"))
    assert wrong != source
    (tmp_path / "tests" / "alerts_test.yml").write_text(wrong, encoding="utf-8")
    tested = promtool("test", "rules", tmp_path / "tests" / "alerts_test.yml")
    assert tested.returncode != 0
    assert 'severity="page"' in said(tested) and "CallCenterAIServiceDown" in said(tested)


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_sections(text: str) -> dict[str, str]:
    """{anchor: the section's text up to the next heading} of every heading in the guide."""
    parts = re.split(r"^#{1,6} +(.+)$", text, flags=re.MULTILINE)
    return {github_anchor(heading): body for heading, body in zip(parts[1::2], parts[2::2])}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_links_its_runbook_in_the_guide(rule):
    assert {"severity", "service"} <= set(rule["labels"])
    assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
    page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
    assert page == "https://github.com/callcenterai/callcenterai/blob/main/MLOPS_GUIDE.md"
    assert anchor.startswith("runbook-")
    sections = runbook_sections(GUIDE.read_text(encoding="utf-8"))
    assert anchor in sections, f"MLOPS_GUIDE.md has no heading whose anchor is {anchor}"
    assert rule["alert"] in sections[anchor], f"the {anchor} runbook does not name {rule['alert']}"


def test_github_anchors_are_worked_out_as_github_does():
    assert github_anchor("Runbook: CallCenterAI high 5xx ratio") == "runbook-callcenterai-high-5xx-ratio"
    assert github_anchor("4b. The whole product: build, start") == "4b-the-whole-product-build-start"
