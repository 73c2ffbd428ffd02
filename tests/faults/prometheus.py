"""A live Prometheus over the fault suite's processes: the stack's scrape config (every job pointed at
its port), the project's alert rules, scrape and rule evaluation every 5 s."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.stack.prometheus import scrape_config

RULES = PROJECT_ROOT / "deploy" / "prometheus" / "rules"
SCRAPE_SECONDS = 5.0
EVALUATION_SECONDS = 5.0
DURATION = re.compile(r"(\d+)(ms|s|m|h)")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def write_config(path: Path, ports: dict[str, int]) -> Path:
    config = scrape_config(ports)
    config["global"].update(
        scrape_interval=f"{SCRAPE_SECONDS:.0f}s",
        scrape_timeout="4s",
        evaluation_interval=f"{EVALUATION_SECONDS:.0f}s",
    )
    config["rule_files"] = [str(p) for p in sorted(RULES.glob("*.yml"))]
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def seconds_of(duration: str) -> float:
    return sum(int(n) * UNIT_SECONDS[unit] for n, unit in DURATION.findall(duration))


def alert_rule(name: str) -> dict | None:
    """The alerting rule named ``name`` in the project's rule files, or None."""
    for path in sorted(RULES.glob("*.yml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("alert") == name:
                    return rule
    return None


def alert_for_seconds(name: str) -> float:
    rule = alert_rule(name)
    return seconds_of(str(rule.get("for", "0s"))) if rule else 0.0


def alerts(url: str, name: str, service: str | None = None) -> list[dict]:
    """Active alerts (pending or firing) named ``name``, of ``service`` when given."""
    try:
        found = httpx.get(url + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    except (httpx.HTTPError, ValueError, KeyError):
        return []
    return [
        a
        for a in found
        if a["labels"].get("alertname") == name
        and (service is None or service in (a["labels"].get("service"), a["labels"].get("job")))
    ]


def firing(url: str, name: str, service: str | None = None) -> bool:
    return any(a["state"] == "firing" for a in alerts(url, name, service))


def wait_for_firing(url: str, name: str, service: str, since: float, seconds: float) -> float | None:
    """Seconds from ``since`` (time.monotonic) until the alert fires; None if not within ``seconds``."""
    while time.monotonic() - since < seconds:
        if firing(url, name, service):
            return round(time.monotonic() - since, 1)
        time.sleep(0.5)
    return None
