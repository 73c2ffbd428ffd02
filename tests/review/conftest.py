"""A real PostgreSQL server for the review store's tests (Debian's postgresql package).

The server (tests.helpers.running_postgres) listens on a Unix socket in a temporary
folder only (no TCP port), with trust authentication for that socket.
"""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import running_postgres


@pytest.fixture(scope="session")
def postgres_server():
    """The socket folder of a running server with a ``callcenterai`` superuser."""
    with running_postgres("callcenterai") as folder:
        yield folder


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
