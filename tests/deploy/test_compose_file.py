"""docker-compose.yml and deploy/prometheus/compose.yml read statically: what test_compose.py runs,
checked in the fast lane (start order, images, volumes, secrets, scrape targets)."""

from __future__ import annotations

import re

import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.images import SERVICES
from tests.deploy.compose_stack import COMPOSE_FILE, compose_services, start_order

PINNED = re.compile(r"^\$\{(?P<variable>[A-Z_]+):-[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}\}$")


def test_services_start_in_the_order_the_issue_asks():
    order = start_order(list(compose_services()))
    assert order == [["mlflow", "prometheus", "review-db"], ["grafana", "tfidf_svc", "transformer_svc"]] + [
        ["agent"],
        ["web_interface"],
    ]
    for name, service in compose_services().items():
        conditions = {dependency["condition"] for dependency in service.get("depends_on", {}).values()}
        assert conditions <= {"service_healthy"}, name
        assert service["restart"] == "unless-stopped", name


def test_the_projects_images_come_from_variables_and_the_public_ones_are_pinned_by_digest():
    standins = {"POSTGRES_IMAGE": "postgres", "PROMETHEUS_IMAGE": "prometheus"}
    for name, service in compose_services().items():
        if name in SERVICES:
            assert (
                service["image"]
                == f"${{CALLCENTERAI_REGISTRY:-localhost/callcenterai}}/{name}:${{CALLCENTERAI_TAG:-dev}}"
            )
            assert service["build"] == {"context": ".", "dockerfile": f"services/{name}/Dockerfile"}
            assert service["read_only"] is True, name
        else:
            pinned = PINNED.match(service["image"])
            assert pinned, f"{name}: {service['image']} is not a variable defaulting to a digest"
            if pinned["variable"] in standins:  # what a machine without a registry builds instead
                assert (
                    PROJECT_ROOT / "deploy" / "standins" / standins[pinned["variable"]] / "Containerfile"
                ).is_file()


def test_every_named_volume_and_secret_is_declared_and_used():
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    volumes = {
        mount.split(":")[0]
        for service in compose["services"].values()
        for mount in service.get("volumes", [])
        if not mount.startswith(".")
    }
    assert volumes == set(compose["volumes"])
    secrets = {
        secret if isinstance(secret, str) else secret["source"]
        for service in compose["services"].values()
        for secret in service.get("secrets", [])
    }
    assert secrets == set(compose["secrets"])


def test_prometheus_scrapes_every_service_with_metrics_by_its_name_and_container_port():
    config = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "compose.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    services = compose_services()
    container_ports = {
        name: {port.rsplit(":", 1)[1] for port in s.get("ports", [])} for name, s in services.items()
    }
    expected = {f"{name}:{port}" for name in [*SERVICES] for port in container_ports[name]}
    assert expected <= targets
    for target in targets - {"localhost:9090"}:  # Prometheus itself
        name, port = target.split(":")
        assert port in container_ports[name], f"{target}: no such service or port in docker-compose.yml"


def test_env_example_lists_every_variable_of_the_compose_file_with_its_default():
    defaults = dict(re.findall(r"\$\{([A-Z_]+):-([^}]*)\}", COMPOSE_FILE.read_text()))
    lines = (PROJECT_ROOT / ".env.example").read_text().splitlines()
    documented = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert {name: documented.get(name) for name in defaults} == defaults
