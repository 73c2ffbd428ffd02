"""The review store through SQLAlchemy: a SQLite file by default, PostgreSQL by DATABASE_URL.

The schema is Alembic's to create and change (``migrate``), never ``create_all``:
a deployment's database moves forward by migrations only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
from pathlib import Path
from typing import Iterator

from sqlalchemy import case, create_engine, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError
from callcenterai.review.schema import FlaggedTicket, Review, utc_now

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x43434149  # any constant shared by every process migrating this database


class ReviewError(UserError, ValueError):
    """A decision the store cannot record (unknown ticket, unknown label)."""


class AlreadyDecided(ReviewError):
    """A decision on a ticket someone has decided, not marked as a revision; the message says whose."""


def default_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'review.db'}"


class ReviewStore:
    def __init__(self, url: str | None = None, password: str | None = None):
        self.url = url or default_url()
        # SQLite: wait for a writer instead of failing at once; other databases: drop dead connections.
        connect_args = {"timeout": 5} if self.url.startswith("sqlite") else {}
        if password and not self.url.startswith("sqlite"):
            # Given to the driver at connect time, never put in the URL (which logs and errors show).
            connect_args["password"] = password
        self.engine = create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (creating it on an empty database)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._sqlite_migration_lock(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # The agent and the web interface both migrate at start: one waits for the other.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextlib.contextmanager
    def _sqlite_migration_lock(self) -> Iterator[None]:
        """SQLite has no advisory lock: the processes sharing a database file (agents, web replicas)
        take turns on a lock file beside it, so none sees another's half-made tables."""
        database = self.engine.url.database
        if self.engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add_flagged(self, records: list[dict]) -> int:
        """Store flagged tickets in one transaction; how many were new.

        A record whose ``ticket_key`` is stored already is skipped, so the agent may
        deliver a batch again when it cannot know whether the first commit happened.
        """
        if not records:
            return 0
        now = utc_now()
        rows = [{"ticket_key": None, "created_at": now, **record} for record in records]
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(FlaggedTicket)
            .on_conflict_do_nothing(index_elements=["ticket_key"])
            .returning(FlaggedTicket.id)
        )
        with self.sessions.begin() as session:
            return len(session.execute(statement, rows).all())

    def pending(
        self, label: str | None = None, reason: str | None = None, limit: int = 50
    ) -> list[FlaggedTicket]:
        """Flagged tickets no one has reviewed yet, those that most need a person first.

        The least sure answer first (the one most likely wrong), then the oldest: a
        flood of new tickets cannot push an old one out of sight.
        """
        query = select(FlaggedTicket).where(~FlaggedTicket.reviews.any())
        if label:
            query = query.where(FlaggedTicket.suggested_label == label)
        if reason:
            query = query.where(FlaggedTicket.review_reason == reason)
        order = (FlaggedTicket.confidence, FlaggedTicket.created_at, FlaggedTicket.id)
        query = query.order_by(*order).limit(limit)
        with self.sessions() as session:
            return list(session.scalars(query))

    def record_review(
        self, ticket_id: int, reviewer: str, label: str, labels: list[str], revision: bool = False
    ) -> Review:
        """Record a decision; on a ticket already decided only as a ``revision`` (else AlreadyDecided)."""
        if label not in labels:
            raise ReviewError(f"unknown label {label!r}; expected one of {', '.join(labels)}")
        try:
            with self.sessions.begin() as session:
                ticket = session.get(FlaggedTicket, ticket_id)
                if ticket is None:
                    raise ReviewError(f"no flagged ticket {ticket_id}")
                decided = ticket.reviews
                if decided and not revision:
                    raise AlreadyDecided(_decided_already(ticket_id, decided[-1]))
                review = Review(
                    ticket=ticket,
                    reviewer=reviewer,
                    label=label,
                    agreed=label == ticket.suggested_label,
                    revision=max((r.revision for r in decided), default=-1) + 1,
                )
                session.add(review)
        except IntegrityError:  # another decision on this ticket was committed in between
            raise AlreadyDecided(f"ticket {ticket_id} was decided by someone else just now") from None
        return review

    def counts(self, since: dt.datetime) -> dict:
        """Pending tickets, reviews since ``since``, and how often reviewers kept the model's label."""
        with self.sessions() as session:
            pending = session.scalar(select(func.count(FlaggedTicket.id)).where(~FlaggedTicket.reviews.any()))
            recent = session.scalar(select(func.count(Review.id)).where(Review.decided_at >= since))
            agreed_count = func.sum(case((Review.agreed, 1), else_=0))  # PostgreSQL has no sum(boolean)
            total, agreed = session.execute(select(func.count(Review.id), agreed_count)).one()
        return {
            "pending": int(pending or 0),
            "reviewed_since": int(recent or 0),
            "agreement": (int(agreed or 0) / total) if total else None,
        }

    def reviewed(self) -> list[tuple[str, str, str]]:
        """(redacted text, label, decided at) for every reviewed ticket, its latest decision winning."""
        latest = (
            select(Review.ticket_id, func.max(Review.id).label("review_id"))
            .group_by(Review.ticket_id)
            .subquery()
        )
        query = (
            select(FlaggedTicket.text, Review.label, Review.decided_at)
            .join(latest, latest.c.ticket_id == FlaggedTicket.id)
            .join(Review, Review.id == latest.c.review_id)
            .order_by(Review.decided_at, Review.id)
        )
        with self.sessions() as session:
            return [(text, label, str(at)) for text, label, at in session.execute(query)]


def _decided_already(ticket_id: int, latest: Review) -> str:
    return (
        f"ticket {ticket_id} was already decided ({latest.label}, by {latest.reviewer}): "
        "to change that decision, send it as a revision"
    )


__all__ = ["AlreadyDecided", "ReviewStore", "ReviewError", "SQLAlchemyError", "default_url"]
