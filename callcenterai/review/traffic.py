"""What the agent saw, for the drift checks, and what the challenger answered beside the champion.

Only the columns of each table are kept from a row, so nothing the agent knows beyond the
redacted text and the answers (request ids, client addresses) can reach the database.
Each call is one transaction: the agent writes its queued rows in batches, as plain Core
``executemany`` inserts (no ORM bookkeeping per row: these rows are never read back as objects).
"""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select

from callcenterai.review.schema import ShadowCall, ShadowOutcome, TrafficSample, as_utc, utc_now
from callcenterai.review.store import ReviewStore

WINDOW_COLUMNS = ("text", "words", "language", "label", "confidence", "route_model", "created_at")


def _columns_of(table, rows: list[dict]) -> list[dict]:
    names = set(table.__table__.columns.keys()) - {"id"}
    now = utc_now()
    kept = []
    for row in rows:
        # Every row names every column (absent: NULL), as one executemany statement needs.
        values = {name: row.get(name) for name in names}
        values["created_at"] = as_utc(values["created_at"]) if values["created_at"] else now
        kept.append(values)
    return kept


def _insert(store: ReviewStore, table, rows: list[dict]) -> int:
    if not rows:
        return 0
    with store.engine.begin() as connection:
        connection.execute(insert(table.__table__), _columns_of(table, rows))
    return len(rows)


def add_traffic(store: ReviewStore, rows: list[dict]) -> int:
    """Store answered tickets (redacted text, words, language, label, confidence, route_model,
    model_versions; created_at optional) in one transaction; how many."""
    return _insert(store, TrafficSample, rows)


def add_shadow_outcomes(store: ReviewStore, rows: list[dict]) -> int:
    """Store flagged tickets' challenger answers (or failures) beside the champion's in one
    transaction; how many."""
    return _insert(store, ShadowOutcome, rows)


def add_shadow_calls(store: ReviewStore, rows: list[dict]) -> int:
    """Store challenger calls' tallies (tickets, answered, agreed, latency_ms or error) in one
    transaction; how many."""
    return _insert(store, ShadowCall, rows)


def _newest_first():
    return TrafficSample.created_at.desc(), TrafficSample.id.desc()


def traffic_window(store: ReviewStore, limit: int) -> list[dict]:
    """The newest ``limit`` answered tickets, oldest first; created_at as an ISO string (UTC)."""
    columns = [getattr(TrafficSample, name) for name in WINDOW_COLUMNS]
    query = select(*columns).order_by(*_newest_first()).limit(limit)
    with store.sessions() as session:
        rows = [dict(row._mapping) for row in session.execute(query)]
    for row in rows:
        row["created_at"] = as_utc(row["created_at"]).isoformat()
    return rows[::-1]


def prune_traffic(store: ReviewStore, keep: int) -> int:
    """Delete all but the newest ``keep`` answered tickets; how many were deleted."""
    oldest_kept = select(TrafficSample.created_at, TrafficSample.id).order_by(*_newest_first())
    with store.sessions.begin() as session:
        cutoff = session.execute(oldest_kept.offset(max(keep, 0)).limit(1)).first()
        if cutoff is None:
            return 0
        older = or_(
            TrafficSample.created_at < cutoff.created_at,
            (TrafficSample.created_at == cutoff.created_at) & (TrafficSample.id <= cutoff.id),
        )
        return session.execute(delete(TrafficSample).where(older)).rowcount
