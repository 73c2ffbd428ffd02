"""What one challenger call leaves for the review store: a tally per champion version among its
tickets, and the reply checked against the contract."""

from __future__ import annotations

import pytest

from callcenterai.agent.backends import ChallengerFailed
from callcenterai.agent.shadow_rows import Shadowed, answers_of, tallies


def waiting(champion_version: str, label: str = "Access", key: str | None = None) -> Shadowed:
    champion = {
        "label": label,
        "confidence": 0.8,
        "model": {"name": "tickets-tfidf", "version": champion_version},
    }
    return Shadowed("tfidf", "printer jam", champion, "7", key)


def counted(rows: list[dict]) -> dict[str, tuple]:
    return {row["champion_version"]: (row["tickets"], row["answered"], row["agreed"]) for row in rows}


def test_a_call_is_tallied_per_champion_version_among_its_tickets():
    # The champion moved from version 3 to 4 while these tickets waited for the same call.
    items = [waiting("3"), waiting("3"), waiting("4"), waiting("3"), waiting("4")]
    rows = tallies(items, [True, False, True, True, False], version="8", latency_ms=12.5)
    assert counted(rows) == {"3": (3, 3, 2), "4": (2, 2, 1)}
    assert {(row["challenger_version"], row["latency_ms"], row["error"]) for row in rows} == {
        ("8", 12.5, None)
    }
    assert {row["backend"] for row in rows} == {"tfidf"}


def test_a_failed_call_answers_nothing_and_names_the_version_each_ticket_was_offered_to():
    rows = tallies([waiting("3"), waiting("3")], None, error="timeout")
    assert counted(rows) == {"3": (2, 0, 0)}
    assert (rows[0]["challenger_version"], rows[0]["latency_ms"], rows[0]["error"]) == ("7", None, "timeout")


@pytest.mark.parametrize(
    "reply",
    [
        {"predictions": [{"label": "Access", "confidence": 0.9}], "model": {"version": "8"}},  # one short
        {"predictions": [{"label": 3, "confidence": 0.9}] * 2, "model": {"version": "8"}},
        {"predictions": [{"label": "Access", "confidence": 0.9}] * 2},
        ["not", "a", "reply"],
    ],
)
def test_a_reply_off_the_contract_is_a_bad_answer(reply):
    with pytest.raises(ChallengerFailed) as failed:
        answers_of(reply, 2)
    assert failed.value.error == "bad_answer"


def test_a_reply_on_the_contract_gives_its_answers_and_version():
    reply = {"predictions": [{"label": "Access", "confidence": 0.9}] * 2, "model": {"version": 8}}
    assert answers_of(reply, 2) == (reply["predictions"], "8")
