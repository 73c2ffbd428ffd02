"""Batch scoring without a server: the CSV rules, the result file, a job that fails midway, jobs kept
for a while, and a job whose replica died."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from callcenterai.review.store import ReviewStore
from callcenterai.review.web_state import BatchJobs
from callcenterai.web.batch import JobLimits, Jobs, UploadError, parse_tickets
from tests.helpers import Clock
from tests.web.webapp import ANSWER, in_own_loop


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"", "empty"),
        (b"text\n", "no tickets"),
        (b"subject,body\nhello,world\n", "column"),
        ("text\ncaf\u00e9\n".encode("latin-1"), "UTF-8"),
        (b'text\n"never closed\n', "quote"),
        (b"text\nfine\n   \n", "line 3"),
        (b"text\n" + b"x" * 51 + b"\n", "over the 50"),
        (b"text\na\nb\nc\n", "over the limit of 2"),
    ],
)
def test_a_bad_upload_is_refused_with_a_message_naming_the_problem(raw, problem):
    with pytest.raises(UploadError, match=problem):
        parse_tickets(raw, 2, 50)


def test_the_ticket_column_may_be_any_of_the_known_names():
    assert parse_tickets(b"Document,other\nprinter jam,1\nvpn down,2\n", 10, 50) == [
        "printer jam",
        "vpn down",
    ]


def _jobs(folder: Path, clock=None, **limits) -> Jobs:
    store = ReviewStore(f"sqlite:///{folder / 'review.db'}")
    store.migrate()
    return Jobs(
        BatchJobs(store),
        JobLimits(**{"max_running": 2, "max_running_per_owner": 2, **limits}),
        clock or Clock(),
    )


def _run(folder: Path, score, texts):
    async def go():
        jobs = _jobs(folder)
        started = await jobs.start(texts, score, owner="a session")
        await asyncio.gather(*jobs.tasks.values(), return_exceptions=True)
        return await jobs.get(started.id, "a session")

    return in_own_loop(go)


def test_the_result_file_keeps_order_defuses_formulas_and_holds_only_the_redacted_text(tmp_path):
    redacted = {"text": "mail <EMAIL> about the printer jam", "counts": {"EMAIL": 1}, "entities": []}
    formula = {"text": "=1+1 <EMAIL>", "counts": {"EMAIL": 1}, "entities": []}

    async def score(texts):
        yield [{**ANSWER, "redaction": redacted}, {**ANSWER, "redaction": formula}, ANSWER]
        yield [{"refused": '=HYPERLINK("http://x")'}]

    uploaded = ["mail jane@x.org about the printer jam", "=1+1 jane@x.org", "third", "fourth"]
    job = _run(tmp_path, score, uploaded)
    rows = list(csv.DictReader(io.StringIO(job.csv())))
    assert [row["row"] for row in rows] == ["1", "2", "3", "4"]
    assert [row["text"] for row in rows] == [redacted["text"], "'=1+1 <EMAIL>", "", ""]
    assert rows[0]["confidence"] == "0.9123" and rows[0]["redacted"] == "EMAIL=1"
    assert rows[3]["refused"] == '\'=HYPERLINK("http://x")'
    assert "jane@x.org" not in job.csv()


def test_a_job_that_breaks_midway_is_finished_with_the_reason_not_left_polling(tmp_path, caplog):
    async def score(texts):
        yield [ANSWER]
        raise KeyError("predictions")  # an agent answer in an unexpected shape

    job = _run(tmp_path, score, ["printer jam", "my secret text"])
    assert job.done and "KeyError" in job.error and job.progress == 0.5
    assert "my secret text" not in caplog.text


def test_finished_jobs_are_deleted_after_the_keep_time_when_a_new_one_starts(tmp_path):
    async def score(texts):
        yield [ANSWER] * len(texts)

    clock = Clock()

    async def go():
        jobs = _jobs(tmp_path, clock, keep_seconds=60)
        old = await jobs.start(["t"], score, owner="a session")
        await asyncio.gather(*jobs.tasks.values())
        clock.now += 61
        new = await jobs.start(["t"], score, owner="a session")
        await asyncio.gather(*jobs.tasks.values())
        return await jobs.get(old.id, "a session"), await jobs.get(new.id, "a session")

    old, new = in_own_loop(go)
    assert old is None and new is not None and new.done


def test_a_job_whose_replica_stopped_writing_is_failed_after_the_lease(tmp_path):
    async def never_ending(texts):
        await asyncio.Event().wait()
        yield [ANSWER]

    clock = Clock()

    async def go():
        dying, other = _jobs(tmp_path, clock, lease_seconds=30), _jobs(tmp_path, clock, lease_seconds=30)
        stuck = await dying.start(["t"], never_ending, owner="a session")
        await asyncio.sleep(0.05)
        before = await other.get(stuck.id, "a session")
        clock.now += 31  # its replica has written nothing since: as if it died
        after = await other.get(stuck.id, "a session")
        dying.tasks[stuck.id].cancel()  # the test's own task, not a replica's
        return before, after

    before, after = in_own_loop(go)
    assert not before.done and after.done and "replica scoring it stopped" in after.error


def test_a_job_stopped_at_shutdown_is_finished_with_the_reason(tmp_path):
    async def never_ending(texts):
        await asyncio.Event().wait()
        yield [ANSWER]

    async def go():
        jobs = _jobs(tmp_path)
        stuck = await jobs.start(["t"], never_ending, owner="a session")
        await asyncio.sleep(0.05)
        await jobs.stop_all()
        return await jobs.get(stuck.id, "a session"), jobs.store.running()

    stuck, running = in_own_loop(go)
    assert stuck.done and "stopped while scoring" in stuck.error and running == 0
