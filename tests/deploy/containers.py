"""Containers for the image tests: podman with the project's settings, a container started
read-only on a loopback port and removed afterwards, and its HEALTHCHECK run until it passes."""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid

import pytest

from callcenterai.images import podman_env
from tests.helpers import free_port


def podman(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``podman <args>`` with deploy/containers.conf; the CompletedProcess, whatever its exit status."""
    return subprocess.run(
        ["podman", *args], env=podman_env(), capture_output=True, text=True, timeout=timeout
    )


def unique_name(what: str) -> str:
    return f"cctest-{what}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def podman_network():
    """A network of its own (containers on it reach each other by name), removed afterwards."""
    name = unique_name("net")
    created = podman("network", "create", name)
    assert created.returncode == 0, created.stderr
    try:
        yield name
    finally:
        podman("network", "rm", "-f", name)


@contextlib.contextmanager
def running_container(image: str, port: int, *options: str, what: str = "container"):
    """``image`` started detached with a read-only root filesystem, ``port`` published on
    127.0.0.1 (a free port); yields (name, url); removes the container and its anonymous volumes."""
    name, host_port = unique_name(what), free_port()
    command = ["run", "-d", "--read-only", "--tmpfs", "/tmp", "--name", name]
    command += ["-p", f"127.0.0.1:{host_port}:{port}", *options, image]
    try:
        started = podman(*command)
        assert started.returncode == 0, started.stderr
        yield name, f"http://127.0.0.1:{host_port}"
    finally:
        podman("rm", "-f", "-v", name)


def wait_healthy(name: str, seconds: float = 180) -> None:
    """Run the image's HEALTHCHECK until it passes; fail with the logs if the container stops or
    the check still fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while podman("healthcheck", "run", name).returncode != 0:
        state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        if state != "running" or time.monotonic() > deadline:
            pytest.fail(f"{name} is {state}, its health check not passing; its log:\n{container_log(name)}")
        time.sleep(1)


def container_log(name: str) -> str:
    """The end of the container's output, stdout and stderr in the order written."""
    log = subprocess.run(
        ["podman", "logs", name],
        env=podman_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return log.stdout[-4000:]


def user_id(name: str) -> str:
    return podman("exec", name, "id", "-u").stdout.strip()
