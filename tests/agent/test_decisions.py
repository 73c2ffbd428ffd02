"""decide() for every branch, and the flow's promise that only scrubbed text reaches a backend.

The backends here are in-process recorders (unit tier); the same paths run against
real uvicorn processes in test_agent_service.py.
"""

from __future__ import annotations

import asyncio

import pytest

from callcenterai.agent.decisions import Outcome, Ticket, decide, needs_transformer
from callcenterai.pii.scrubber import Scrubbed
from callcenterai.routing.language import Language
from callcenterai.routing.policy import RoutingPolicy
from tests.helpers import RecordingBackend, agent_over, answer, policy


def ticket(words=10, english=True) -> Ticket:
    language = Language("en" if english else "fr", 0.99, english)
    return Ticket(Scrubbed("text"), words, language, tuple(policy().ticket_reasons(words, english)))


def decided(policy: RoutingPolicy, ticket: Ticket, tfidf: Outcome, transformer: Outcome | None) -> dict:
    """decide() with the reasons the agent works out for the ticket."""
    return decide(policy, ticket, tfidf, transformer, needs_transformer(policy, ticket, tfidf))


def test_a_sure_tfidf_answers_alone():
    result = decided(policy(), ticket(), Outcome(answer("tfidf", 0.9)), None)
    assert result["route"]["model"] == "tfidf" and result["route"]["reasons"] == ["confident"]
    assert result["label"] == "Access" and not result["needs_review"] and not result["degraded"]


def test_an_unsure_tfidf_is_combined_with_the_transformer():
    result = decided(policy(), ticket(), Outcome(answer("tfidf", 0.6)), Outcome(answer("transformer", 0.2)))
    assert result["route"]["model"] == "ensemble" and result["route"]["reasons"] == ["low_confidence"]
    assert result["probabilities"]["Access"] == pytest.approx(0.4)
    assert result["label"] == "Hardware" and result["needs_review"]  # 0.6 < review threshold 0.7
    assert result["model"]["kind"] == "ensemble" and len(result["route"]["models"]) == 2


def test_a_foreign_ticket_is_flagged_for_review_whatever_the_confidence():
    result = decided(
        policy(), ticket(english=False), Outcome(answer("tfidf", 0.99)), Outcome(answer("transformer", 1))
    )
    assert result["route"]["reasons"] == ["not_english"] and result["review_reason"] == "not_english"


def test_the_transformer_missing_degrades_to_tfidf_and_says_why():
    result = decided(
        policy(), ticket(words=80), Outcome(answer("tfidf", 0.9)), Outcome(None, "no answer within 2.0 s")
    )
    assert result["route"]["model"] == "tfidf" and result["degraded"]
    assert "transformer_svc unavailable (no answer within 2.0 s)" in result["degraded_reason"]
    assert "long" in result["degraded_reason"]


def test_tfidf_missing_leaves_the_transformer_alone():
    result = decided(policy(), ticket(), Outcome(None, "unreachable"), Outcome(answer("transformer", 0.95)))
    assert result["route"]["model"] == "transformer" and result["route"]["reasons"] == ["tfidf_unavailable"]
    assert result["degraded"] and result["route"]["tfidf_confidence"] is None


def test_no_answer_at_all_is_a_lookup_error():
    with pytest.raises(LookupError):
        decided(policy(), ticket(), Outcome(None, "down"), Outcome(None, "down"))


def test_a_batch_answers_each_tickets_redaction_only_when_asked(tmp_path):
    backends = {"tfidf": RecordingBackend("tfidf", 0.9), "transformer": RecordingBackend("transformer", 0.9)}
    agent = agent_over(backends, tmp_path)
    texts = ["mail jane.doe@corp.example.com please, the vpn is down", "my screen is broken"]
    asked = asyncio.run(agent.batch(texts, "r1", with_redaction=True))
    plain = asyncio.run(agent.batch(texts, "r2"))
    redactions = [asyncio.run(agent.redact(text)) for text in texts]
    assert [answer["redaction"] for answer in asked] == redactions
    assert "jane.doe" not in redactions[0]["text"] and redactions[0]["counts"] == {"EMAIL": 1}
    assert all("redaction" not in answer for answer in plain)
    assert [{k: v for k, v in a.items() if k != "redaction"} for a in asked] == plain


def test_only_scrubbed_text_reaches_a_backend(tmp_path):
    backends = {"tfidf": RecordingBackend("tfidf", 0.6), "transformer": RecordingBackend("transformer", 0.9)}
    agent = agent_over(backends, tmp_path)
    raw = "mail jane.doe@corp.example.com, card 4111 1111 1111 1111, my password is Hunter22!"
    one = asyncio.run(agent.one(raw, "r1"))
    batch = asyncio.run(agent.batch([raw, "my screen is broken"], "r2"))
    sent = backends["tfidf"].sent + backends["transformer"].sent
    assert len(backends["transformer"].sent) == 3  # 0.6 is below the 0.8 threshold every time
    for secret in ("jane.doe@corp.example.com", "4111", "Hunter22"):
        assert all(secret not in text for text in sent)
    assert one["redacted"] == {"EMAIL": 1, "CARD": 1, "CREDENTIAL": 1}
    assert [b["redacted"] for b in batch] == [one["redacted"], {}]


def test_a_batch_names_its_one_model_or_the_ensemble():
    from callcenterai.agent.decisions import batch_ref

    alone = decided(policy(), ticket(), Outcome(answer("tfidf", 0.9)), None)
    both = decided(policy(), ticket(), Outcome(answer("tfidf", 0.6)), Outcome(answer("transformer", 0.2)))
    assert batch_ref([alone, alone]) == alone["model"]
    assert batch_ref([alone, both])["kind"] == "ensemble"


def test_decide_routes_by_the_reasons_it_is_given():
    """The agent works the reasons out once and passes them on: decide() does not redo them."""
    sure, short = Outcome(answer("tfidf", 0.9)), ticket(words=10)
    result = decide(policy(), short, sure, Outcome(None, "down"), ["long"])
    assert result["route"]["reasons"] == ["long"] and "although long" in result["degraded_reason"]
    assert decide(policy(), short, sure, None, [])["route"]["reasons"] == ["confident"]


@pytest.mark.parametrize("tfidf_access", [0.9, 0.6])  # sure: TF-IDF alone; unsure: both asked
def test_the_agent_works_out_each_tickets_reasons_once(tmp_path, monkeypatch, tfidf_access):
    judged = []  # one entry each time length and language are weighed against the policy
    for method in ("transformer_reasons", "ticket_reasons"):
        original = getattr(RoutingPolicy, method, None)

        def counted(self, *args, _original=original, **kwargs):
            judged.append(args)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(RoutingPolicy, method, counted, raising=False)
    backends = {
        "tfidf": RecordingBackend("tfidf", tfidf_access),
        "transformer": RecordingBackend("transformer", 0.9),
    }
    agent = agent_over(backends, tmp_path)
    long_ticket = " ".join(["printer"] * 60)  # over the 50-word limit: both models from the start
    asyncio.run(agent.one("my screen is broken", "r1"))
    asyncio.run(agent.one(long_ticket, "r2"))
    asyncio.run(agent.batch(["my screen is broken", long_ticket], "r3"))
    assert len(judged) == 4
