"""A real PostgreSQL server for the review store's tests (Debian's postgresql package).

initdb and the server refuse to run as root, so as root (CI) they run as the
package's ``postgres`` user: Python's subprocess switches user itself, so no
runuser on the PATH is needed. The server listens on a Unix socket in a temporary
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


def _run_as_server_user(command: list, **kwargs) -> subprocess.CompletedProcess:
    # Python switches user itself (no runuser or su, which need sbin on the PATH).
    as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    return subprocess.run([str(part) for part in command], **as_postgres, **kwargs)


@pytest.fixture(scope="session")
def postgres_server():
    """The socket folder of a running server with a ``callcenterai`` superuser."""
    bindir, folder = postgres_bin(), Path(tempfile.mkdtemp(prefix="callcenterai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "server.log"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120, "cwd": folder}
    _run_as_server_user(
        [bindir / "initdb", "-D", data, "-U", "callcenterai", "--auth=trust", "--no-sync"], **run
    )
    options = f"-k {folder} -c listen_addresses='' -c fsync=off"
    _run_as_server_user([bindir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start"], **run)
    try:
        yield folder
    finally:
        stop = [bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"]
        _run_as_server_user(stop, capture_output=True, timeout=60, cwd=folder)
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
