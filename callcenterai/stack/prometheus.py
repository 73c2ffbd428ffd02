"""The stack's scrape config: ``deploy/prometheus/stack.yml`` with each job pointed at the stack's port,
and the rule files it names (``deploy/prometheus/rules``) by absolute path."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.stack.layout import HOST, StackError
from callcenterai.stack.secrets import write_private

TEMPLATE = PROJECT_ROOT / "deploy" / "prometheus" / "stack.yml"


def scrape_config(ports: Mapping[str, int], template: Path = TEMPLATE) -> dict:
    """The template, each job (named after its service) scraping that service's port on loopback.

    Every service must have a job and every job a service: a port the config did not
    know of would leave a service unwatched without a word.
    """
    config = yaml.safe_load(template.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config.get("scrape_configs", [])}
    if set(jobs) != set(ports):
        raise StackError(f"{template}: its jobs {sorted(jobs)} must be the stack's services {sorted(ports)}")
    for name, job in jobs.items():
        job["static_configs"] = [{"targets": [f"{HOST}:{ports[name]}"]}]
    # Prometheus reads a relative rule path from the config's folder: the copy lives elsewhere.
    config["rule_files"] = [str(template.parent / pattern) for pattern in config.get("rule_files", [])]
    return config


def write_scrape_config(path: Path, ports: Mapping[str, int], template: Path = TEMPLATE) -> Path:
    header = f"# Written by scripts/stack.py from {template.name}; edit the template, not this copy.\n"
    write_private(path, header + yaml.safe_dump(scrape_config(ports, template), sort_keys=False))
    return path
