"""The agent scrubs a long request off the event loop, within a time budget that answers 503.

In process: the flow with in-process backends, and the app through Starlette's
TestClient. The crafted tickets themselves (every pattern's worst case at the
size limit) are the scrubber's tests (tests/pii/); here, what the agent does
around a scrub that is slow whatever the reason.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient

from callcenterai.agent.app import create_app
from callcenterai.agent.flow import Agent
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.policy_holder import PolicyHolder
from callcenterai.agent.policy_source import FilePolicySource
from callcenterai.agent.scrubbing import ScrubBudget, ScrubLane
from callcenterai.agent.settings import AgentSettings
from callcenterai.pii.scrubber import Scrubber, ScrubTimeout
from tests.helpers import RecordingBackend, policy

LONG = "my laptop screen flickers after the update " * 100  # 4,400 characters
SHORT = "my laptop screen flickers"


class WaitingScrubber(Scrubber):
    """Scrubs once ``released`` is set (or ``wait`` seconds have passed), and records on which thread."""

    def __init__(self, wait: float = 1.0):
        super().__init__()
        self.wait, self.released, self.threads = wait, threading.Event(), []

    def scrub(self, text, deadline=None):
        self.threads.append(threading.get_ident())
        self.released.wait(self.wait)
        return super().scrub(text, deadline)


def agent_with(scrubber: Scrubber, folder, budget: ScrubBudget = ScrubBudget()) -> Agent:
    policy().write(folder)
    backends = {"tfidf": RecordingBackend("tfidf", 0.9), "transformer": RecordingBackend("transformer", 0.9)}
    metrics = AgentMetrics()
    holder = PolicyHolder(FilePolicySource(folder / "policy.json"), backends, metrics)
    holder.load()
    return Agent(scrubber, backends, metrics, holder, scrub_budget=budget)


def test_the_event_loop_runs_while_a_long_ticket_is_scrubbed(tmp_path):
    scrubber = WaitingScrubber()
    agent = agent_with(scrubber, tmp_path)

    async def scrub_and_release():
        async def release():
            await asyncio.sleep(0)
            scrubber.released.set()  # only happens if the loop is free during the scrub

        loop_thread = threading.get_ident()
        answer, _ = await asyncio.gather(agent.one(LONG, "r1"), release())
        return loop_thread, answer

    loop_thread, answer = asyncio.run(scrub_and_release())
    assert answer["label"] == "Access" and scrubber.threads[0] != loop_thread


def test_a_short_ticket_is_scrubbed_on_the_loop(tmp_path):
    scrubber = WaitingScrubber()
    scrubber.released.set()
    agent = agent_with(scrubber, tmp_path)

    async def one():
        return threading.get_ident(), await agent.one(SHORT, "r1")

    loop_thread, _ = asyncio.run(one())
    assert scrubber.threads == [loop_thread]


@pytest.mark.parametrize("call", ["one", "batch", "redact"])
def test_a_scrub_past_the_budget_is_refused_with_the_reason_and_counted(tmp_path, call):
    scrubber = WaitingScrubber(wait=0.2)  # never released: it runs past the budget
    agent = agent_with(scrubber, tmp_path, ScrubBudget(seconds=0.05, per_text_seconds=0))
    work = {"one": lambda: agent.one(LONG, "r1"), "batch": lambda: agent.batch([LONG, SHORT], "r1")}
    work["redact"] = lambda: agent.redact(LONG)
    with pytest.raises(ScrubTimeout, match=r"ran past its time budget"):
        asyncio.run(work[call]())
    assert agent.metrics.registry.get_sample_value("callcenterai_agent_scrub_timeouts_total") == 1


def test_a_request_that_waits_for_a_worker_past_its_deadline_is_refused_unscrubbed(tmp_path):
    lane = ScrubLane(ScrubBudget(inline_max_chars=0, seconds=0.05, workers=1), AgentMetrics().scrub_timeouts)
    busy, scrubbed = threading.Event(), []

    async def two_requests():
        first = asyncio.create_task(lane.run(lambda: busy.wait(1.0), 10, lane.deadline() + 5))
        await asyncio.sleep(0.01)
        try:
            await lane.run(lambda: scrubbed.append("second"), 10, lane.deadline())
        finally:
            busy.set()
            await first

    with pytest.raises(ScrubTimeout, match="stopped at waiting for a worker"):
        asyncio.run(two_requests())
    assert scrubbed == []


def test_redact_answers_503_naming_the_budget_when_scrubbing_runs_past_it(tmp_path):
    policy().write(tmp_path)
    settings = AgentSettings(
        TFIDF_URL="http://127.0.0.1:9",
        TRANSFORMER_URL="http://127.0.0.1:9",
        ROUTING_POLICY=str(tmp_path / "policy.json"),
        DATABASE_URL="",
        SCRUB_BUDGET_SECONDS=1e-9,
    )
    with TestClient(create_app(settings)) as client:
        refused = client.post("/redact", json={"text": "mail jane@corp.example.com " * 200})
        short = client.post("/redact", json={"text": "mail jane@corp.example.com"})
    assert refused.status_code == 503, refused.text
    assert "time budget" in refused.json()["error"] and "jane" not in refused.text
    assert short.status_code == 503  # the budget holds on the loop too; nothing half scrubbed leaves
