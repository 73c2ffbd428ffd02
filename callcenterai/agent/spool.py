"""The agent's outbox of flagged tickets: a local SQLite file that outlives the process.

Each flagged ticket is appended here before the review store sees it, and leaves
only once the store has committed it (``ReviewWriter``), oldest first. A review
database that is down, or an agent that is restarted, therefore loses nothing:
the next writer over the same file delivers what is left, in order.

What it promises, honestly:
- SIGTERM (a graceful stop): nothing is lost. Uvicorn lets requests in flight
  finish, then the writer appends everything still in memory and spends at most
  ``REVIEW_DRAIN_SECONDS`` delivering; the rest waits here for the next start.
- kill -9: the tickets flagged since the last append are lost: the appender
  writes whatever is waiting in one transaction at most every ``APPEND_EVERY``
  (``agent.review_writer``), so those of the last one or two such intervals,
  never more than the in-memory queue holds. What was appended survives a crash
  of the process; with WAL and ``synchronous=NORMAL`` a power cut may also take
  the last transactions.
- A ticket may be delivered twice (the store committed, the process died before
  its deletion here); the store's unique ``ticket_key`` makes the replay a no-op.

The table holds the records as JSON, texts already redacted by the scrubber.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_key TEXT NOT NULL UNIQUE,
    spooled_at REAL NOT NULL,
    record BLOB NOT NULL
)
"""


class Spool:
    """Flagged tickets waiting for the review store, in the order they were appended.

    Safe to call from any thread: one connection, used under a lock (each call is short).
    """

    def __init__(self, path: str | Path, clock=time.time):
        self.path, self.clock = Path(path), clock
        self.lock = threading.Lock()
        self.connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute("PRAGMA busy_timeout=5000")
        self.connection.execute(SCHEMA)
        # Kept here as the file changes, so the metrics never read the file.
        (self.depth,) = self.connection.execute("SELECT count(*) FROM spool").fetchone()
        self.oldest_at = self._oldest_at()

    def _oldest_at(self) -> float | None:
        row = self.connection.execute("SELECT spooled_at FROM spool ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else row[0]

    def oldest_seconds(self) -> float:
        """How long the oldest waiting ticket has waited; 0 when none waits."""
        oldest = self.oldest_at
        return 0.0 if oldest is None else max(0.0, self.clock() - oldest)

    def append(self, records: list[dict]) -> None:
        """Append in one transaction; each record has its ``ticket_key`` (an appended key is kept once)."""
        now = self.clock()
        rows = [(r["ticket_key"], now, orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY)) for r in records]
        with self.lock, self._transaction():
            added = self.connection.executemany(
                "INSERT OR IGNORE INTO spool (ticket_key, spooled_at, record) VALUES (?, ?, ?)", rows
            ).rowcount
            self.depth += added
            if self.oldest_at is None and added:
                self.oldest_at = now

    def oldest(self, limit: int) -> list[dict]:
        """Up to ``limit`` records, the oldest first; they stay until ``remove``."""
        with self.lock:
            rows = self.connection.execute("SELECT record FROM spool ORDER BY seq LIMIT ?", (limit,))
            return [orjson.loads(record) for (record,) in rows.fetchall()]

    def remove(self, ticket_keys: list[str]) -> None:
        with self.lock, self._transaction():
            removed = self.connection.executemany(
                "DELETE FROM spool WHERE ticket_key = ?", [(key,) for key in ticket_keys]
            ).rowcount
            self.depth -= removed
            self.oldest_at = self._oldest_at()

    def close(self) -> None:
        with self.lock:
            self.connection.close()

    @contextlib.contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an error (the connection is in autocommit mode)."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")
