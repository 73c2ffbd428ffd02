"""A real PostgreSQL server for the review store's tests (Debian's postgresql package).

The server (tests.helpers.running_postgres) listens on a Unix socket in a temporary
folder only (no TCP port), with trust authentication for that socket.
"""

from __future__ import annotations

import uuid

import pytest

from callcenterai.review.store import ReviewStore
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


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A migrated review store, once on SQLite and once on a fresh PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'review.db'}" if request.param == "sqlite" else None
    store = ReviewStore(url or request.getfixturevalue("postgres_url"))
    store.migrate()
    yield store
    store.engine.dispose()
