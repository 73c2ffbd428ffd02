"""What the review-rate alert and the dashboard read from the agent: the rates the routing policy
expects (set on every load), and the counters deploy/prometheus/rules/recording.yml derives the
measured rates from (one confidence observation per answer, one "confident" route per ticket the
transformer did not see)."""

from __future__ import annotations

import asyncio

from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.policy_holder import PolicyHolder
from callcenterai.agent.policy_source import FilePolicySource
from tests.helpers import RecordingBackend, agent_over, policy

FRENCH = "mon ordinateur portable ne démarre plus depuis la mise à jour de ce matin "


def expected(review_rate: float, transformer_call_rate: float) -> dict:
    figures = policy().expected.model_dump()
    return {**figures, "review_rate": review_rate, "transformer_call_rate": transformer_call_rate}


def gauge(metrics: AgentMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(f"callcenterai_agent_policy_expected_{name}")


def test_each_policy_load_sets_the_rates_it_expects(tmp_path):
    backends = {"tfidf": RecordingBackend("tfidf", 0.9), "transformer": RecordingBackend("transformer", 0.9)}
    metrics = AgentMetrics()
    holder = PolicyHolder(FilePolicySource(tmp_path / "policy.json"), backends, metrics)
    policy(expected=expected(0.29, 0.31)).write(tmp_path)
    holder.load()
    assert gauge(metrics, "review_rate") == 0.29 and gauge(metrics, "transformer_rate") == 0.31
    policy(expected=expected(0.12, 0.4)).write(tmp_path)
    holder.load()
    assert gauge(metrics, "review_rate") == 0.12 and gauge(metrics, "transformer_rate") == 0.4


def test_answers_confident_routes_and_flags_count_tickets_not_reasons(tmp_path):
    transformer = RecordingBackend("transformer", 0.9)
    agent = agent_over({"tfidf": RecordingBackend("tfidf", 0.9), "transformer": transformer}, tmp_path)
    tickets = [
        "my laptop screen flickers after the update",  # TF-IDF alone
        "my laptop screen flickers after the update " * 9,  # long: both models
        FRENCH * 6,  # long and not English: two reasons, one ticket, flagged
    ]

    async def send_all():
        return [await agent.one(text, f"r{i}") for i, text in enumerate(tickets)]

    answers = asyncio.run(send_all())
    value = agent.metrics.registry.get_sample_value
    assert [len(a["route"]["reasons"]) for a in answers] == [1, 1, 2]
    answered = value("callcenterai_agent_confidence_count")
    confident = value("callcenterai_agent_routes_total", {"model": "tfidf", "reason": "confident"})
    assert answered == len(tickets)
    assert answered - confident == len(transformer.sent) == 2
    flagged = sum(a["needs_review"] for a in answers)
    assert value("callcenterai_agent_review_flags_total", {"reason": "not_english"}) == flagged == 1
