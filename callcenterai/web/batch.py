"""Batch scoring: a CSV read under limits, scored through the agent in chunks, results in the database.

The tickets' texts live only in the memory of the replica scoring them (never in
the database, on disk or in logs: they may hold personal data the agent has not
yet seen). The review database keeps each job's result rows (row number, label,
confidence, model, review reason, redaction counts: what the page shows and the
CSV holds), for the session that started it only, until BATCH_KEEP_SECONDS after
it finished (``review.web_state``). The jobs being scored are capped, overall and
per session, across replicas.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import anyio

from callcenterai.errors import UserError
from callcenterai.fileio import spreadsheet_safe
from callcenterai.review.web_state import BatchJobs

log = logging.getLogger("callcenterai.web")
TEXT_COLUMNS = ("text", "Document", "ticket")
RESULT_COLUMNS = [
    "row",
    "text",
    "label",
    "confidence",
    "model",
    "needs_review",
    "review_reason",
    "redacted",
    "degraded",
    "refused",
]


class UploadError(UserError, ValueError):
    """An upload the page cannot score; the message is shown as is."""


class BatchRefused(UserError, RuntimeError):
    """Too many batches being scored; the message names the limit."""


def parse_tickets(raw: bytes, max_rows: int, max_chars: int) -> list[str]:
    """The ticket texts of a CSV upload: a text/Document/ticket column, or the only column."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"the file is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in content:
        raise UploadError("the file is not a CSV (it holds NUL bytes)")
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        hint = ": a quote is opened and never closed" if "end of data" in str(exc) else ""
        raise UploadError(f"not a readable CSV at line {reader.line_num} ({exc}){hint}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise UploadError("the file is empty: expected a header row and one ticket per row")
    header = [cell.strip() for cell in rows[0]]
    column = next((header.index(c) for c in TEXT_COLUMNS if c in header), 0 if len(header) == 1 else None)
    if column is None:
        raise UploadError(
            f"no ticket column: name one of {', '.join(TEXT_COLUMNS)} (found {', '.join(header)})"
        )
    texts = [row[column] if column < len(row) else "" for row in rows[1:]]
    if not texts:
        raise UploadError("the file has a header but no tickets")
    if len(texts) > max_rows:
        raise UploadError(f"{len(texts)} tickets is over the limit of {max_rows} per upload")
    for number, text in enumerate(texts, 2):
        if not text.strip():
            raise UploadError(f"line {number}: the ticket is blank")
        if len(text) > max_chars:
            raise UploadError(
                f"line {number}: the ticket is {len(text)} characters, over the {max_chars} limit"
            )
    return texts


@dataclass
class Job:
    """What a page shows of a job, as read from the review database."""

    id: str
    total: int
    rows: list[dict]
    error: str | None
    started: float
    finished: float | None

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def scored(self) -> int:
        return len(self.rows)

    @property
    def progress(self) -> float:
        return self.scored / self.total

    def seconds(self) -> float:
        return (self.finished or time.time()) - self.started

    def csv(self) -> str:
        """The rows in upload order; the ``row`` column joins them to the uploaded file."""
        out = io.StringIO()
        writer = csv.DictWriter(out, RESULT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in row.items()})
        return out.getvalue()


def result_row(number: int, answer: dict) -> dict:
    """One ticket's row of the results; a ticket the agent refused has only its row and the reason.

    ``text`` is the ticket as the models saw it (the agent's redaction: personal data replaced by
    placeholders), never the uploaded text: these rows are kept in the review database."""
    if "refused" in answer:
        return {**dict.fromkeys(RESULT_COLUMNS, ""), "row": number, "refused": answer["refused"]}
    return {
        "row": number,
        "text": (answer.get("redaction") or {}).get("text", ""),
        "label": answer["label"],
        "confidence": round(answer["confidence"], 4),
        "model": answer["route"]["model"],
        "needs_review": answer["needs_review"],
        "review_reason": answer.get("review_reason") or "",
        "redacted": ";".join(f"{k}={v}" for k, v in sorted(answer.get("redacted", {}).items())),
        "degraded": answer.get("degraded", False),
        "refused": "",
    }


@dataclass(frozen=True)
class JobLimits:
    max_running: int
    max_running_per_owner: int
    keep_seconds: float = 3600.0
    lease_seconds: float = 300.0


ABANDONED = "the web interface replica scoring it stopped: upload the file again"


class Jobs:
    """Jobs in the review database, so any replica shows and serves them; each is scored by the replica
    that accepted it, which writes its rows after every chunk (its heartbeat). A job whose replica stopped
    writing for ``lease_seconds`` (the replica died) is failed, with that reason, by whichever replica
    looks next. Finished jobs older than ``keep_seconds`` are deleted when a new one starts."""

    def __init__(self, store: BatchJobs, limits: JobLimits, clock: Callable[[], float] = time.time):
        self.store, self.limits, self.clock = store, limits, clock
        self.tasks: dict[str, asyncio.Task] = {}

    def check_room(self, owner: str) -> None:
        """BatchRefused when ``owner`` (a session) or everyone together has as many running as allowed."""
        self._tidy()
        per_owner, overall = self.limits.max_running_per_owner, self.limits.max_running
        if self.store.running(owner) >= per_owner:
            raise BatchRefused(
                f"this session is already scoring {per_owner} batch(es), the limit "
                "(MAX_RUNNING_BATCHES_PER_SESSION): wait for it to finish"
            )
        if self.store.running() >= overall:
            raise BatchRefused(
                f"{overall} batches are being scored, the limit (MAX_RUNNING_BATCHES): "
                "try again when one has finished"
            )

    async def start(self, texts: list[str], score, owner: str) -> Job:
        # Checked, then created: replicas starting jobs at the same moment may pass a cap by one each.
        await anyio.to_thread.run_sync(self.check_room, owner)
        job = Job(uuid.uuid4().hex, len(texts), [], None, self.clock(), None)
        await anyio.to_thread.run_sync(self.store.create, job.id, owner, job.total, job.started)
        task = asyncio.create_task(self._run(job.id, texts, score))
        self.tasks[job.id] = task
        task.add_done_callback(lambda _: self.tasks.pop(job.id, None))
        return job

    async def get(self, job_id: str, owner: str) -> Job | None:
        """The job, to the session that started it only (to any other, no such job)."""
        return await anyio.to_thread.run_sync(self._read, job_id, owner)

    async def stop_all(self) -> None:
        """Stop this replica's jobs; each is recorded as failed, with the reason, before this returns."""
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _read(self, job_id: str, owner: str) -> Job | None:
        now = self.clock()
        self.store.fail_abandoned(now - self.limits.lease_seconds, now, ABANDONED)
        row = self.store.get(job_id, owner)
        if row is None:
            return None
        return Job(row.id, row.total, row.rows, row.error, row.started_at, row.finished_at)

    def _tidy(self) -> None:
        now = self.clock()
        self.store.fail_abandoned(now - self.limits.lease_seconds, now, ABANDONED)
        self.store.delete_finished(before=now - self.limits.keep_seconds)

    async def _run(self, job_id: str, texts: list[str], score) -> None:
        rows: list[dict] = []
        error = None
        try:
            async for answers in score(texts):
                rows.extend([result_row(n, answer) for n, answer in enumerate(answers, len(rows) + 1)])
                await anyio.to_thread.run_sync(self.store.progress, job_id, list(rows), self.clock())
        except UserError as exc:
            error = str(exc)
        except asyncio.CancelledError:
            error = "the web interface stopped while scoring it: upload the file again"
            raise
        except Exception as exc:  # noqa: BLE001 - a page polling this job must hear that it stopped
            log.error("batch %s stopped: %s", job_id[:8], type(exc).__name__)  # never the texts
            error = f"the batch stopped unexpectedly ({type(exc).__name__}, job {job_id[:8]} in the log)"
        finally:  # not awaited: a cancelled task must still record that it ended
            self.store.finish(job_id, self.clock(), error)
