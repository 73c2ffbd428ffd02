"""The web interface's state that every replica must see, kept in the review database.

- Batch jobs: the result rows a batch's page shows (row number, label, confidence,
  model, review reason, redaction counts; never a ticket's text), who started it
  (a random session id) and its progress. A finished job is deleted once it is
  older than the web interface's BATCH_KEEP_SECONDS, when a new job starts.
- Sign-in attempts: the name and client address of each attempt not yet
  succeeded; deleted once they leave the throttle's window.
- Revoked sessions: a signed-out session's random id, until it would have expired.

Times are wall-clock seconds (``time.time``) so that replicas on several hosts agree.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, text, update

from callcenterai.review.schema import BatchJob, RevokedSession, SignInAttempt
from callcenterai.review.store import ReviewStore

SIGN_IN_LOCK = 0x43434142  # PostgreSQL advisory lock: one sign-in check at a time across replicas


class BatchJobs:
    def __init__(self, store: ReviewStore):
        self.sessions = store.sessions

    def running(self, owner: str | None = None) -> int:
        query = select(func.count(BatchJob.id)).where(BatchJob.finished_at.is_(None))
        if owner is not None:
            query = query.where(BatchJob.owner == owner)
        with self.sessions() as session:
            return int(session.scalar(query) or 0)

    def create(self, job_id: str, owner: str, total: int, now: float) -> None:
        job = BatchJob(id=job_id, owner=owner, total=total, rows=[], started_at=now, heartbeat_at=now)
        with self.sessions.begin() as session:
            session.add(job)

    def progress(self, job_id: str, rows: list[dict], now: float) -> None:
        """The rows scored so far; also the heartbeat that says the replica scoring it is alive."""
        self._update(job_id, rows=rows, heartbeat_at=now)

    def finish(self, job_id: str, now: float, error: str | None = None) -> None:
        self._update(job_id, finished_at=now, error=error, heartbeat_at=now)

    def get(self, job_id: str, owner: str) -> BatchJob | None:
        """The job, to the session that started it only (to any other, no such job)."""
        with self.sessions() as session:
            job = session.get(BatchJob, job_id)
        return job if job is not None and job.owner == owner else None

    def fail_abandoned(self, silent_since: float, now: float, reason: str) -> int:
        """Running jobs with no progress since ``silent_since`` (replica died): failed, ``reason``."""
        abandoned = (BatchJob.finished_at.is_(None)) & (BatchJob.heartbeat_at < silent_since)
        statement = update(BatchJob).where(abandoned).values(finished_at=now, error=reason)
        with self.sessions.begin() as session:
            return session.execute(statement).rowcount

    def delete_finished(self, before: float) -> int:
        statement = delete(BatchJob).where(BatchJob.finished_at < before)
        with self.sessions.begin() as session:
            return session.execute(statement).rowcount

    def _update(self, job_id: str, **values) -> None:
        with self.sessions.begin() as session:
            session.execute(update(BatchJob).where(BatchJob.id == job_id).values(**values))


class SignInAttempts:
    """Attempts per (kind, key), each a row, counted within a sliding window."""

    def __init__(self, store: ReviewStore):
        self.sessions = store.sessions

    def count_unless_over(
        self, limits: list[tuple[str, str, int]], now: float, window: float
    ) -> tuple[int, float]:
        """For (kind, key, limit) each: the first over its limit and its wait in seconds, nothing counted;
        else (-1, 0) and one attempt counted for each. One transaction that writes first, so replicas
        checking at the same moment take turns (parallel guesses cannot all pass the check)."""
        with self.sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SIGN_IN_LOCK})
            # Attempts that left the window are deleted; on SQLite this write also takes the lock.
            session.execute(delete(SignInAttempt).where(SignInAttempt.at <= now - window))
            for number, (kind, key, limit) in enumerate(limits):
                recent = _recent(session, kind, key, now - window)
                if len(recent) >= limit:
                    return number, max(recent[-limit] + window - now, 0.0)
            session.add_all(SignInAttempt(kind=kind, key=key, at=now) for kind, key, _ in limits)
        return -1, 0.0

    def forget_latest(self, kind: str, key: str) -> None:
        latest = select(func.max(SignInAttempt.id)).where(
            SignInAttempt.kind == kind, SignInAttempt.key == key
        )
        with self.sessions.begin() as session:
            session.execute(delete(SignInAttempt).where(SignInAttempt.id == latest.scalar_subquery()))

    def clear(self, kind: str, key: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(SignInAttempt).where(SignInAttempt.kind == kind, SignInAttempt.key == key))


def _recent(session, kind: str, key: str, since: float) -> list[float]:
    """When each attempt since ``since`` was made, oldest first."""
    query = select(SignInAttempt.at).where(
        SignInAttempt.kind == kind, SignInAttempt.key == key, SignInAttempt.at > since
    )
    return sorted(session.scalars(query))


class RevokedSessions:
    def __init__(self, store: ReviewStore):
        self.sessions = store.sessions

    def revoke(self, sid: str, until: float, now: float) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(RevokedSession).where(RevokedSession.until <= now))
            session.merge(RevokedSession(sid=sid, until=until))

    def revoked(self, sid: str) -> bool:
        with self.sessions() as session:
            return session.get(RevokedSession, sid) is not None
