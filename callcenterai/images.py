"""The product's five container images: their names, the local base they build on where no
registry is reachable, and the podman builds (scripts/build_images.py is the command line).

Each Dockerfile takes its bases from build arguments (BASE_IMAGE for the runtime stage,
BUILDER_IMAGE for build stages) whose defaults are the digest-pinned public python image. Here
no registry answers, so the bases are made from Debian's own packages: mmdebstrap's root
filesystem imported into podman, then two small Containerfiles in deploy/images/ turn it into a
stand-in for python:3.11-slim (``python``/``pip`` on PATH through a virtual environment) and a
builder that adds Python's C headers. The host's CA bundle, where it exists, reaches pip as a
build secret (never a layer): the package index is reached through a TLS-inspecting proxy here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError

SERVICES = ("tfidf_svc", "transformer_svc", "agent", "web_interface", "mlflow")
REPOSITORY = "localhost/callcenterai"
CONTAINERS_CONF = PROJECT_ROOT / "deploy" / "containers.conf"
CONTAINERFILES = PROJECT_ROOT / "deploy" / "images"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ROOTFS_IMAGE = f"{REPOSITORY}/debian-rootfs:bookworm"
BASE_IMAGE = f"{REPOSITORY}/python-base:3.11-bookworm"
BUILDER_IMAGE = f"{REPOSITORY}/python-builder:3.11-bookworm"
# What the root filesystem holds: Debian bookworm's Python 3.11, venv and the CA certificates.
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates"


def image_name(service: str, tag: str = "dev") -> str:
    return f"{REPOSITORY}/{service}:{tag}"


def podman_env() -> dict[str, str]:
    """The environment podman needs here: the project's containers.conf (runc, no ulimits)."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """``podman <args>`` with the project's settings; a failure is a UserError with podman's words."""
    if shutil.which("podman") is None:
        raise UserError("podman is not installed (Debian: apt-get install podman runc mmdebstrap)")
    result = subprocess.run(
        ["podman", *args], env=podman_env(), capture_output=capture, text=True, cwd=PROJECT_ROOT
    )
    if check and result.returncode != 0:
        detail = (result.stderr or "")[-3000:] if capture else "(see the output above)"
        raise UserError(f"podman {' '.join(args[:2])} failed (exit {result.returncode}): {detail}")
    return result


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def image_size(name: str) -> int:
    """The image's size in bytes, as podman reports it (all its layers, uncompressed)."""
    return int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout.strip())


def import_debian_rootfs() -> None:
    """mmdebstrap's bookworm (Python 3.11 from Debian's packages) as a podman image."""
    if shutil.which("mmdebstrap") is None:
        raise UserError("mmdebstrap is not installed (Debian: apt-get install mmdebstrap)")
    with tempfile.TemporaryDirectory(prefix="callcenterai-rootfs-") as folder:
        tar = Path(folder) / "rootfs.tar"
        command = ["mmdebstrap", "--variant=apt", f"--include={DEBIAN_PACKAGES}", "bookworm", str(tar)]
        made = subprocess.run(command, capture_output=True, text=True)
        if made.returncode != 0:
            raise UserError(f"mmdebstrap failed (exit {made.returncode}): {made.stderr[-2000:]}")
        podman("import", str(tar), ROOTFS_IMAGE)


def ensure_local_bases(rebuild: bool = False) -> None:
    """The stand-ins for python:3.11-slim (runtime and builder), made when absent or asked to."""
    if rebuild or not image_exists(ROOTFS_IMAGE):
        import_debian_rootfs()
    for name, containerfile in (
        (BASE_IMAGE, "python-base.Containerfile"),
        (BUILDER_IMAGE, "python-builder.Containerfile"),
    ):
        if rebuild or not image_exists(name):
            podman("build", "-q", "-f", str(CONTAINERFILES / containerfile), "-t", name, str(CONTAINERFILES))


@dataclass(frozen=True)
class BuildOptions:
    tag: str = "dev"
    no_cache: bool = False  # no layer cache and no pip cache: a cold build
    local_base: bool = True  # False: the Dockerfiles' own (public, digest-pinned) bases
    quiet: bool = True


@dataclass(frozen=True)
class Built:
    service: str
    image: str
    seconds: float
    size_bytes: int


def build_arguments(service: str, options: BuildOptions) -> list[str]:
    """The ``podman build`` arguments for one service's image (run from the project root)."""
    # The docker format: OCI image configs have no HEALTHCHECK, and podman drops it from them.
    args = ["build", "--format", "docker", "-f", f"services/{service}/Dockerfile"]
    args += ["-t", image_name(service, options.tag)]
    if CA_BUNDLE.is_file():
        args += ["--secret", f"id=ca,src={CA_BUNDLE}"]
    if options.local_base:
        args += ["--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--build-arg", f"BUILDER_IMAGE={BUILDER_IMAGE}"]
    if options.no_cache:
        args += ["--no-cache", "--build-arg", "PIP_COLD=1"]
    if options.quiet:
        args.append("-q")
    return [*args, "."]


def image_id(name: str) -> str | None:
    found = podman("image", "inspect", "--format", "{{.Id}}", name, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def build_image(service: str, options: BuildOptions) -> Built:
    name = image_name(service, options.tag)
    replaced = image_id(name)
    started = time.monotonic()
    podman(*build_arguments(service, options), capture=options.quiet)
    seconds = time.monotonic() - started
    if replaced and replaced != image_id(name):
        # The image this tag named before, now untagged: removed so rebuilds do not pile up on
        # disk. podman keeps it when a container or a cached layer still needs it.
        podman("rmi", replaced, check=False)
    return Built(service, name, seconds, image_size(name))


def build_images(services: tuple[str, ...] | list[str], options: BuildOptions) -> list[Built]:
    """Build each image in turn (podman's layer cache and the pip cache mount make reruns quick)."""
    if options.local_base:
        ensure_local_bases()
    return [build_image(service, options) for service in services]


def lock_command(service: str) -> list[str]:
    """pip-compile of a service's requirements.txt into its hash-pinned requirements.lock."""
    folder = f"services/{service}"
    return [
        sys.executable,  # pip-tools as this environment has it, not whatever pip-compile is on PATH
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",
        "--strip-extras",
        "--no-emit-index-url",
        "--no-emit-find-links",
        f"--output-file={folder}/requirements.lock",
        f"{folder}/requirements.txt",
    ]
