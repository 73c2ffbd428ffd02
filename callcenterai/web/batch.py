"""Batch scoring: a CSV read under limits, scored through the agent in chunks, kept in memory.

Results live only in this process (never on disk or in logs: the texts may hold
personal data the agent has not yet seen) and only for the most recent jobs.
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
]


class UploadError(UserError, ValueError):
    """An upload the page cannot score; the message is shown as is."""


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
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    results: list[dict] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

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
            writer.writerow({**row, "text": _no_formula(text)})
        return out.getvalue()


def result_row(number: int, answer: dict) -> dict:
    return {
        "row": number,
        "label": answer["label"],
        "confidence": round(answer["confidence"], 4),
        "model": answer["route"]["model"],
        "needs_review": answer["needs_review"],
        "review_reason": answer.get("review_reason") or "",
        "redacted": ";".join(f"{k}={v}" for k, v in sorted(answer.get("redacted", {}).items())),
        "degraded": answer.get("degraded", False),
    }


def _no_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Jobs:
    """The most recent jobs; older ones (and their texts) are dropped."""

    def __init__(self, keep: int = 20):
        self.keep = keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.tasks: set[asyncio.Task] = set()

    def start(self, texts: list[str], score) -> Job:
        job = Job(texts)
        self.jobs[job.id] = job
        while len(self.jobs) > self.keep:
            self.jobs.popitem(last=False)
        task = asyncio.create_task(self._run(job, score))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

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
