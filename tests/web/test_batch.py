"""Batch scoring without a server: the CSV rules, the result file, a job that fails midway and a
job dropped to make room."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from callcenterai.web.batch import Jobs, UploadError, parse_tickets
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


def _run(score, texts):
    async def go():
        jobs = Jobs(max_running=2, max_running_per_owner=2, keep=2)
        job = jobs.start(texts, score, owner="a session")
        while not job.done:
            await asyncio.sleep(0.01)
        return jobs, job

    return in_own_loop(go)


def test_the_result_file_keeps_order_and_defuses_formulas():
    async def score(texts):
        for text in texts:
            yield [ANSWER]

    _, job = _run(score, ['=HYPERLINK("http://x")', "printer jam"])
    rows = list(csv.DictReader(io.StringIO(job.csv())))
    assert [row["text"] for row in rows] == ['\'=HYPERLINK("http://x")', "printer jam"]
    assert rows[0]["confidence"] == "0.9123" and rows[0]["redacted"] == "EMAIL=1"
    assert job.progress == 1 and job.error is None


def test_a_job_that_breaks_midway_is_finished_with_the_reason_not_left_polling(caplog):
    async def score(texts):
        yield [ANSWER]
        raise KeyError("predictions")  # an agent answer in an unexpected shape

    _, job = _run(score, ["printer jam", "my secret text"])
    assert job.done and "KeyError" in job.error and job.progress == 0.5
    assert "my secret text" not in caplog.text


def test_only_the_most_recent_jobs_are_kept():
    async def score(texts):
        yield [ANSWER] * len(texts)

    async def go():
        jobs = Jobs(max_running=5, max_running_per_owner=5, keep=2)
        started = [jobs.start(["t"], score, owner="a session") for _ in range(3)]
        await asyncio.gather(*jobs.tasks, return_exceptions=True)  # the dropped one was stopped
        return jobs, started

    jobs, started = in_own_loop(go)
    assert jobs.get(started[0].id, "a session") is None and jobs.get(started[2].id, "a session") is not None


def test_a_job_dropped_to_make_room_is_stopped_not_left_running():
    async def never_ending(texts):
        await asyncio.Event().wait()
        yield [ANSWER]

    async def quick(texts):
        yield [ANSWER] * len(texts)

    async def go():
        jobs = Jobs(max_running=5, max_running_per_owner=5, keep=1)
        stuck = jobs.start(["t"], never_ending, owner="a session")
        await asyncio.sleep(0)  # it is running, waiting on the agent
        jobs.start(["t"], quick, owner="a session")  # keep=1: the stuck job is dropped
        await asyncio.sleep(0.05)
        return stuck, jobs.running()

    stuck, running = in_own_loop(go)
    assert stuck.task.cancelled() and stuck.done and running == 0
