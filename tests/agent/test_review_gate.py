"""The review queue cannot be flooded: within a window the same text is stored once and at most so
many new tickets are stored; what is turned away is counted by reason."""

from __future__ import annotations

import asyncio

from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.review_writer import FlagGate, ReviewWriter
from tests.helpers import Clock, flagged_record


def test_the_same_text_is_let_in_once_per_window_as_the_models_read_it():
    clock = Clock()
    gate = FlagGate(window=60, max_new=100, clock=clock)
    assert gate.refusal("Printer <PHONE> jammed") is None
    assert gate.refusal("printer <phone> JAMMED!!") == "duplicate"  # the same words to a model
    assert gate.refusal("printer jammed again") is None
    clock.now += 61
    assert gate.refusal("Printer <PHONE> jammed") is None  # the window has passed


def test_at_most_max_new_tickets_are_let_in_per_window():
    clock = Clock()
    gate = FlagGate(window=60, max_new=3, clock=clock)
    assert [gate.refusal(f"ticket number {word}") for word in ("one", "two", "three", "four")] == [
        None,
        None,
        None,
        "rate_limited",
    ]
    clock.now += 30
    assert gate.refusal("ticket number five") == "rate_limited"
    clock.now += 31  # the first three are out of the window
    assert gate.refusal("ticket number five") is None
    assert len(gate.let_in) == 1  # the memory holds the window's tickets only


def counted(metrics: AgentMetrics, result: str) -> float:
    return metrics.registry.get_sample_value("callcenterai_agent_review_store_total", {"result": result}) or 0


def test_the_writer_queues_what_the_gate_lets_in_and_counts_the_rest():
    async def offer_all() -> ReviewWriter:
        metrics = AgentMetrics()
        writer = ReviewWriter("sqlite://", metrics, FlagGate(window=60, max_new=2))
        for text in ("junk", "junk", "junk", "printer jam", "screen broken", "mouse"):
            writer.offer(flagged_record(text=text))
        return writer

    writer = asyncio.run(offer_all())
    queued = [record["text"] for record in writer.queue]
    assert queued == ["junk", "printer jam"]
    assert counted(writer.metrics, "duplicate") == 2 and counted(writer.metrics, "rate_limited") == 2
