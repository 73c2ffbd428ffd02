"""A real PostgreSQL server for the review store's tests (Debian's postgresql package).

initdb and the server refuse to run as root, so as root (CI) they run as the
package's ``postgres`` user. The server listens on a Unix socket in a temporary
folder only (no TCP port), with trust authentication for that socket.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

INSTALL_HINT = "install Debian's postgresql package (python setup_mlops.py does so as root)"


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(f"the review store's PostgreSQL tests need a PostgreSQL server: {INSTALL_HINT}")
    return Path(found[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres_server():
    """The socket folder of a running server with a ``callcenterai`` superuser."""
    bindir, folder = postgres_bin(), Path(tempfile.mkdtemp(prefix="callcenterai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "server.log"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run(
        _as_server_user(
            [str(bindir / "initdb"), "-D", str(data), "-U", "callcenterai", "--auth=trust", "--no-sync"]
        ),
        **run,
    )
    options = f"-k {folder} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_server_user(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
        ),
        **run,
    )
    try:
        yield folder
    finally:
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the server for one test."""
    import psycopg

    name = f"reviews_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host=str(postgres_server), user="callcenterai", dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://callcenterai@/{name}?host={postgres_server}"
