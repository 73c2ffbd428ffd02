"""Batch scoring: a CSV read under limits, scored through the agent in chunks, kept in memory.

Results live only in this process (never on disk or in logs: the texts may hold
personal data the agent has not yet seen), only for the most recent jobs, and only
for the session that started each one. The jobs being scored are capped, overall
and per session; a job dropped to make room is stopped, not left running.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from callcenterai.errors import UserError
from callcenterai.fileio import spreadsheet_safe

log = logging.getLogger("callcenterai.web")
TEXT_COLUMNS = ("text", "Document", "ticket")
RESULT_COLUMNS = [
    "row",
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
    texts: list[str]
    owner: str  # the session that started it: only it may see the results
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    results: list[dict] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def progress(self) -> float:
        return len(self.results) / len(self.texts)

    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def rows(self) -> list[dict]:
        return [result_row(number, answer) for number, answer in enumerate(self.results, 1)]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, RESULT_COLUMNS + ["text"], lineterminator="\n")
        writer.writeheader()
        for row, text in zip(self.rows(), self.texts):
            writer.writerow({**row, "text": spreadsheet_safe(text)})
        return out.getvalue()


def result_row(number: int, answer: dict) -> dict:
    """One ticket's row of the results; a ticket the agent refused has only its row and the reason."""
    if "refused" in answer:
        return {**dict.fromkeys(RESULT_COLUMNS, ""), "row": number, "refused": answer["refused"]}
    return {
        "row": number,
        "label": answer["label"],
        "confidence": round(answer["confidence"], 4),
        "model": answer["route"]["model"],
        "needs_review": answer["needs_review"],
        "review_reason": answer.get("review_reason") or "",
        "redacted": ";".join(f"{k}={v}" for k, v in sorted(answer.get("redacted", {}).items())),
        "degraded": answer.get("degraded", False),
        "refused": "",
    }


class Jobs:
    """The most recent jobs; older ones (and their texts) are dropped, and stopped if still running."""

    def __init__(self, max_running: int, max_running_per_owner: int, keep: int = 20):
        self.max_running, self.max_running_per_owner, self.keep = max_running, max_running_per_owner, keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.tasks: set[asyncio.Task] = set()

    def running(self, owner: str | None = None) -> int:
        return sum(not job.done and (owner is None or job.owner == owner) for job in self.jobs.values())

    def check_room(self, owner: str) -> None:
        """BatchRefused when ``owner`` (a session) or everyone together has as many running as allowed."""
        if self.running(owner) >= self.max_running_per_owner:
            raise BatchRefused(
                f"this session is already scoring {self.max_running_per_owner} batch(es), the limit "
                "(MAX_RUNNING_BATCHES_PER_SESSION): wait for it to finish"
            )
        if self.running() >= self.max_running:
            raise BatchRefused(
                f"{self.max_running} batches are being scored, the limit (MAX_RUNNING_BATCHES): "
                "try again when one has finished"
            )

    def start(self, texts: list[str], score, owner: str) -> Job:
        self.check_room(owner)
        job = Job(texts, owner)
        self.jobs[job.id] = job
        while len(self.jobs) > self.keep:
            _, dropped = self.jobs.popitem(last=False)
            if dropped.task is not None:
                dropped.task.cancel()  # its texts are gone from here: nobody could read its results
        job.task = asyncio.create_task(self._run(job, score))
        self.tasks.add(job.task)
        job.task.add_done_callback(self.tasks.discard)
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, to the session that started it only (to any other, no such job)."""
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def stop_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    @staticmethod
    async def _run(job: Job, score) -> None:
        try:
            async for answers in score(job.texts):
                job.results.extend(answers)
        except UserError as exc:
            job.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a page polling this job must hear that it stopped
            log.error("batch %s stopped: %s", job.id[:8], type(exc).__name__)  # never the texts
            job.error = f"the batch stopped unexpectedly ({type(exc).__name__}, job {job.id[:8]} in the log)"
        finally:
            job.finished = time.monotonic()
