"""A ticket of a CSV batch that the agent cannot classify (nothing left once personal data, digits and
punctuation are gone) keeps its row with the agent's reason; it does not stop the job."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from callcenterai.text import NOTHING_TO_CLASSIFY
from callcenterai.web.agent_client import TicketRefused
from tests.web.webapp import (
    ANSWER,
    AgentOverHTTP,
    agent_client_over,
    in_own_loop,
    redacted,
    serving,
    until,
    upload,
    visitor,
    web_app,
)


def test_the_client_answers_refused_tickets_with_the_reason_and_scores_the_rest_of_their_chunk():
    agent = AgentOverHTTP()
    texts = ["printer jam", "!!!", "4411 2024", "?!", "vpn down"]

    async def go():
        client = agent.client(batch=2)
        return [answer async for chunk in client.score(texts) for answer in chunk]

    answers = in_own_loop(go)
    refused = {"refused": NOTHING_TO_CLASSIFY}
    scored = [{**ANSWER, "redaction": redacted(text)} for text in ("printer jam", "vpn down")]
    assert answers == [scored[0], refused, refused, refused, scored[1]]
    # each refused chunk sent once more without the tickets it named; one with nothing left, not again
    assert agent.sent == [["printer jam", "!!!"], ["printer jam"], ["4411 2024", "?!"], ["vpn down"]]


def test_a_batch_with_a_ticket_the_agent_refuses_finishes_and_its_row_says_why(tmp_path):
    app = web_app(tmp_path)
    content = b"text\nprinter jam\n!!!\nvpn down\n"

    async def go():
        async with serving(app, AgentOverHTTP().client(batch=10)), visitor(app) as browser:
            job = (await upload(browser, content)).headers["location"]
            jobs = app.state.web.jobs
            await until(lambda: not jobs.tasks)
            return (await browser.get(job)).text, await browser.get(job + "/results.csv")

    page, results = in_own_loop(go)
    assert results.status_code == 200, page
    rows = list(csv.DictReader(io.StringIO(results.text)))
    assert [(row["row"], row["text"], row["label"], row["refused"]) for row in rows] == [
        ("1", "as seen: printer jam", "Hardware", ""),
        ("2", "", "", NOTHING_TO_CLASSIFY),
        ("3", "as seen: vpn down", "Hardware", ""),
    ]
    assert "as seen: vpn down" in page  # the results table shows the ticket as the models saw it
    assert rows[1]["confidence"] == "" and "1 could not be classified" in page


def refusal(body) -> httpx.Response:
    return httpx.Response(422, json=body, request=httpx.Request("POST", "http://agent.test/predict/batch"))


@pytest.mark.parametrize(
    "body",
    [
        {"error": "texts: List should have at most 2 items", "detail": [{"field": "texts", "problem": "x"}]},
        {"error": "texts.1: refused"},  # no field-by-field detail: the batch as a whole
        ["not", "the error shape"],
    ],
    ids=["the batch itself", "no detail", "another shape"],
)
def test_a_refusal_that_names_no_ticket_still_stops_the_job_with_the_agent_message(body):
    client = agent_client_over(lambda request: refusal(body), batch=5)

    async def go():
        return [chunk async for chunk in client.score(["printer jam", "vpn down"])]

    with pytest.raises(TicketRefused, match="the agent cannot classify this"):
        in_own_loop(go)
