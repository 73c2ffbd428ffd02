"""A ticket with no words left once personal data, digits and punctuation are gone gets one answer:
BadInput (a 422) naming that reason, and no classifier is asked, however it came to be empty."""

from __future__ import annotations

import asyncio

import pytest

from callcenterai.errors import BadInput
from callcenterai.text import NOTHING_TO_CLASSIFY
from tests.helpers import RecordingBackend, agent_over

EMPTY_TICKETS = {
    "only an e-mail address": "jane.doe@example.com",
    "only a phone number": "+44 20 7946 0958",
    "only digits": "4411 2024",
    "only punctuation": "!!!",
    "e-mail, digits and punctuation": "  jane.doe@example.com -- #4411 ?!  ",
    "single letters": "a b c 1",
}


@pytest.fixture()
def backends():
    return {"tfidf": RecordingBackend("tfidf", 0.9), "transformer": RecordingBackend("transformer", 0.9)}


@pytest.mark.parametrize("text", EMPTY_TICKETS.values(), ids=EMPTY_TICKETS.keys())
def test_a_ticket_with_nothing_left_is_bad_input_and_reaches_no_backend(tmp_path, backends, text):
    agent = agent_over(backends, tmp_path)
    with pytest.raises(BadInput) as refused:
        asyncio.run(agent.one(text, "r1"))
    assert str(refused.value) == f"text: {NOTHING_TO_CLASSIFY}"
    assert backends["tfidf"].sent == [] and backends["transformer"].sent == []


def test_a_batch_names_each_ticket_with_nothing_left_and_asks_no_backend(tmp_path, backends):
    agent = agent_over(backends, tmp_path)
    texts = ["my printer is broken", "!!!", "call +44 20 7946 0958 please", "jane.doe@example.com"]
    with pytest.raises(BadInput, match=f"^texts.1, texts.3: {NOTHING_TO_CLASSIFY}$"):
        asyncio.run(agent.batch(texts, "r2"))
    assert backends["tfidf"].sent == []


def test_a_ticket_with_words_left_beside_its_personal_data_is_classified(tmp_path, backends):
    agent = agent_over(backends, tmp_path)
    answer = asyncio.run(agent.one("printer broken, mail jane.doe@example.com", "r3"))
    assert answer["label"] == "Access" and [t.strip() for t in backends["tfidf"].sent] == [
        "printer broken, mail"
    ]
