"""The review store's tables (SQLAlchemy 2.0). Alembic migrations create and change them.

Only redacted text is ever stored: the agent writes what its scrubber returned,
with typed placeholders where personal data was.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime | str) -> dt.datetime:
    """An aware UTC time from an ISO string or a datetime; naive ones are UTC (SQLite drops the zone)."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class FlaggedTicket(Base):
    __tablename__ = "flagged_tickets"
    # A ticket the agent delivers twice (a commit whose acknowledgement was lost) is stored once.
    __table_args__ = (Index("uq_flagged_tickets_ticket_key", "ticket_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    ticket_key: Mapped[str | None] = mapped_column(
        String(32), nullable=True, doc="Random, made when the agent flagged it: nothing personal."
    )
    text: Mapped[str] = mapped_column(Text, doc="Redacted: typed placeholders where personal data was.")
    suggested_label: Mapped[str] = mapped_column(String(100), index=True)
    confidence: Mapped[float] = mapped_column(Float, index=True)  # the queue's order: least sure first
    review_reason: Mapped[str] = mapped_column(String(50), index=True)
    route_model: Mapped[str] = mapped_column(String(20))
    route_reasons: Mapped[list] = mapped_column(JSON)
    probabilities: Mapped[dict] = mapped_column(JSON, doc="The final (routed) probabilities.")
    model_probabilities: Mapped[dict] = mapped_column(JSON, doc="Per model kind: its own probabilities.")
    model_versions: Mapped[dict] = mapped_column(JSON, doc="Per model kind: name and version.")
    redacted: Mapped[dict] = mapped_column(JSON, doc="Personal data removed: counts by type.")
    reviews: Mapped[list[Review]] = relationship(back_populates="ticket", order_by="Review.decided_at")


class Review(Base):
    __tablename__ = "reviews"
    # One decision per revision of a ticket: of two reviewers deciding at once, the second is refused.
    __table_args__ = (Index("uq_reviews_ticket_revision", "ticket_id", "revision", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("flagged_tickets.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    agreed: Mapped[bool] = mapped_column(Boolean, doc="The reviewer kept the suggested label.")
    revision: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", doc="0: the first decision; n: its n-th change."
    )
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    ticket: Mapped[FlaggedTicket] = relationship(back_populates="reviews")


class BatchJob(Base):
    """A batch the web interface scores: its result rows (no ticket text), so any replica can show them."""

    __tablename__ = "batch_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(
        String(64), index=True, doc="The random id of the session that started it."
    )
    total: Mapped[int] = mapped_column(Integer)
    rows: Mapped[list] = mapped_column(
        JSON, doc="One result row per ticket scored so far: label, never text."
    )
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[float] = mapped_column(Float)
    heartbeat_at: Mapped[float] = mapped_column(Float, doc="Last progress written by the replica scoring it.")
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)


class SignInAttempt(Base):
    """One sign-in attempt not (yet) succeeded, counted per name and per client across replicas."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_kind_key_at", "kind", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), doc="name or client.")
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float, index=True)


class RevokedSession(Base):
    """A signed-out session's id, until the session would have expired anyway."""

    __tablename__ = "revoked_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[float] = mapped_column(Float, index=True)


class TrafficSample(Base):
    """One answered ticket as the agent saw it (redacted text, the answer): the drift window's rows."""

    __tablename__ = "traffic_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    text: Mapped[str] = mapped_column(Text, doc="Redacted: typed placeholders where personal data was.")
    words: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(100))
    confidence: Mapped[float] = mapped_column(Float)
    route_model: Mapped[str] = mapped_column(String(20))
    model_versions: Mapped[dict] = mapped_column(JSON, doc="Per model kind: name and version.")


class ShadowOutcome(Base):
    """A flagged ticket the challenger also answered (or failed to): its answer beside the champion's,
    kept so that the reviewer's decision says which of the two was right."""

    __tablename__ = "shadow_outcomes"
    __table_args__ = (
        Index("ix_shadow_outcomes_model_name_challenger_version", "model_name", "challenger_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    ticket_key: Mapped[str | None] = mapped_column(
        String(32), nullable=True, index=True, doc="The flagged ticket's key, when it was flagged."
    )
    backend: Mapped[str] = mapped_column(String(20))
    model_name: Mapped[str] = mapped_column(String(100))
    champion_version: Mapped[str] = mapped_column(String(20))
    challenger_version: Mapped[str] = mapped_column(String(20))
    champion_label: Mapped[str] = mapped_column(String(100))
    champion_confidence: Mapped[float] = mapped_column(Float)
    challenger_label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    challenger_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(
        String(50), nullable=True, doc="Why the challenger gave no answer (timeout, http_5xx, ...)."
    )


class ShadowCall(Base):
    """One call to a challenger (or one batch not sent while it rested): the tickets it carried that
    one champion version had answered, how many the challenger answered and agreed on, its latency."""

    __tablename__ = "shadow_calls"
    __table_args__ = (
        Index("ix_shadow_calls_model_name_challenger_version", "model_name", "challenger_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    backend: Mapped[str] = mapped_column(String(20))
    model_name: Mapped[str] = mapped_column(String(100))
    champion_version: Mapped[str] = mapped_column(String(20))
    challenger_version: Mapped[str] = mapped_column(String(20))
    tickets: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    agreed: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(
        String(50), nullable=True, doc="Why the challenger gave no answer (timeout, http_5xx, resting, ...)."
    )


class DriftRun(Base):
    """One comparison of the recent traffic with the training data: each check's score and verdict."""

    __tablename__ = "drift_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    window_tickets: Mapped[int] = mapped_column(Integer)
    reference_tickets: Mapped[int] = mapped_column(Integer)
    drifted: Mapped[bool] = mapped_column(Boolean)
    checks: Mapped[dict] = mapped_column(JSON, doc="Per check: score, threshold, drifted, method, detail.")
    report_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
