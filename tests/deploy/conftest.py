"""The product's images, built once per test run by scripts/build_images.py's code (podman)."""

from __future__ import annotations

import shutil

import pytest

from callcenterai.images import SERVICES, BuildOptions, build_images


@pytest.fixture(scope="session")
def built_images() -> dict[str, str]:
    """All five images on the local Debian base: {service: image name}.

    They stay after the run: they are the build's product and its cache (the next run and
    ``python scripts/build_images.py`` reuse their layers), as .venv stays. The tests remove
    every container and network they start.
    """
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: setup_mlops.py installs it (Debian packages podman, runc)")
    built = build_images(SERVICES, BuildOptions())
    return {image.service: image.image for image in built}
