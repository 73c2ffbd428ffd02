"""The agent shadows a backend's challenger after each answer, off the request path.

In process: the agent app through Starlette's TestClient, in front of the real classifier service
(tiny TF-IDF champion and challenger, served by uvicorn on loopback in a thread; tests/agent/conftest.py).
Only the challenger fault cases (a challenger that hangs, one that answers 500) use a fake
classifier: a small FastAPI app served by uvicorn on loopback, whose champion answers at once and
whose challenger fails as told.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from callcenterai.agent.settings import AgentSettings
from callcenterai.httpkit.settings import SettingsError, settings_from_env
from callcenterai.review.schema import ShadowCall, ShadowOutcome
from callcenterai.review.store import ReviewStore
from tests.agent.conftest import WORDS, agent_app, sample, served, tfidf_service, until

TICKETS = "callcenterai_shadow_tickets_total"
TEXTS = [
    f"my {a} and the {b} need help today"
    for a, b in zip(WORDS["Access"] + WORDS["Hardware"], WORDS["Storage"] + WORDS["Access"])
]


def shadowed(client, result: str) -> float:
    return sample(client, TICKETS, backend="tfidf", result=result)


def stored(database: str, table) -> list:
    """The rows of ``table`` written so far, oldest first (none before the tables exist)."""
    store = ReviewStore(database)
    try:
        with store.sessions() as session:
            return session.scalars(select(table).order_by(table.id)).all()
    except OperationalError:
        return []
    finally:
        store.engine.dispose()


def stored_errors(database: str) -> list[str | None]:
    """The ``error`` of each challenger call stored so far (one ticket each in these tests)."""
    return [call.error for call in stored(database, ShadowCall)]


def without_latency(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "latency_ms"}


def ask_all(client) -> list[dict]:
    """TEXTS to the agent: the first half one by one, the rest as one batch."""
    half = len(TEXTS) // 2
    answers = [client.post("/predict", json={"text": text}).json() for text in TEXTS[:half]]
    batch = client.post("/predict/batch", json={"texts": TEXTS[half:]})
    assert batch.status_code == 200, batch.text
    return answers + batch.json()["predictions"]


def test_every_ticket_is_compared_with_the_same_backends_challenger_and_agreement_counted(
    tiny_service, tmp_path
):
    url = tiny_service
    with agent_app(tmp_path, url) as client:
        ask_all(client)
        until(lambda: shadowed(client, "agreed") + shadowed(client, "disagreed") == len(TEXTS), "the shadow")
        champion = httpx.post(url + "/predict/batch", json={"texts": TEXTS}).json()["predictions"]
        challenger = httpx.post(url + "/challenger/predict/batch", json={"texts": TEXTS}).json()[
            "predictions"
        ]
        model = client.get("/model").json()["backends"]["tfidf"]["challenger"]
    same = sum(c["label"] == s["label"] for c, s in zip(champion, challenger))
    assert 0 < same < len(TEXTS)  # the challenger, trained on fewer tickets, disagrees on some
    assert (shadowed(client, "agreed"), shadowed(client, "disagreed")) == (same, len(TEXTS) - same)
    assert shadowed(client, "failed") == shadowed(client, "dropped") == 0
    for who in ("champion", "challenger"):
        count = sample(client, "callcenterai_shadow_confidence_count", backend="tfidf", model=who)
        assert count == len(TEXTS)
    assert sample(client, "callcenterai_shadow_latency_seconds_count", backend="tfidf") >= 1
    assert model == {"status": "serving", "version": "local", "reason": None, "shadowed": True}


def test_a_share_of_zero_sends_nothing_to_the_challenger(tiny_service, tmp_path):
    with agent_app(tmp_path, tiny_service, SHADOW_SHARE=0) as client:
        ask_all(client)
        assert sample(client, "callcenterai_shadow_queue_depth") == 0
    # The app has stopped: anything queued would have been sent or counted dropped by now.
    for result in ("agreed", "disagreed", "failed", "dropped"):
        assert shadowed(client, result) == 0


def test_the_answers_are_the_same_with_and_without_a_challenger(tiny_models, tiny_service, tmp_path):
    answers = {}
    with tfidf_service(tmp_path, tiny_models, challenger=False) as without:
        for challenger, url in ((True, tiny_service), (False, without)):
            folder = tmp_path / str(challenger)
            folder.mkdir()
            with agent_app(folder, url) as client:
                answers[challenger] = [without_latency(a) for a in ask_all(client)]
            compared = shadowed(client, "agreed") + shadowed(client, "disagreed")
            assert compared == (len(TEXTS) if challenger else 0)
    assert answers[True] == answers[False]


def test_a_full_queue_drops_the_tickets_over_its_bound_and_counts_them(tiny_service, tmp_path):
    with agent_app(tmp_path, tiny_service, SHADOW_MAX_PENDING=2) as client:
        # One batch: every ticket is offered before the worker can take any.
        assert client.post("/predict/batch", json={"texts": TEXTS[:5]}).status_code == 200
        assert shadowed(client, "dropped") == 3
    assert shadowed(client, "agreed") + shadowed(client, "disagreed") == 2


def test_a_flagged_ticket_and_its_shadow_outcome_share_the_ticket_key(tiny_service, tmp_path):
    database = f"sqlite:///{tmp_path / 'review.db'}"
    texts = TEXTS[:3] + TEXTS[:1]  # the last is a duplicate: answered, not stored for review again
    flag_all = {"review_threshold": 0.999}
    with agent_app(tmp_path, tiny_service, flag_all, DATABASE_URL=database) as client:
        answers = [client.post("/predict", json={"text": text}).json() for text in texts]
    assert all(answer["needs_review"] for answer in answers)
    store = ReviewStore(database)
    flagged = {ticket.text: ticket.ticket_key for ticket in store.pending(limit=100)}
    store.engine.dispose()
    assert len(flagged) == 3 and None not in flagged.values()
    outcomes = stored(database, ShadowOutcome)
    # The duplicate has no key of its own: it is counted in its call's tally, with no outcome row.
    assert [row.ticket_key for row in outcomes] == [flagged[text] for text in texts[:3]]
    assert [row.champion_label for row in outcomes] == [answer["label"] for answer in answers[:3]]
    assert all(row.challenger_label and row.latency_ms is not None for row in outcomes)
    assert sum(call.tickets for call in stored(database, ShadowCall)) == len(texts)


def test_a_batch_is_one_challenger_call_tallied_in_one_row_with_no_row_per_unflagged_ticket(
    tiny_service, tmp_path
):
    database = f"sqlite:///{tmp_path / 'review.db'}"
    never_flag = {"review_threshold": 0.0}
    with agent_app(tmp_path, tiny_service, never_flag, DATABASE_URL=database) as client:
        answers = client.post("/predict/batch", json={"texts": TEXTS}).json()["predictions"]
        until(lambda: stored(database, ShadowCall), "the call's tally written")
        agreed = shadowed(client, "agreed")
    assert not any(answer["needs_review"] for answer in answers)
    [call] = stored(database, ShadowCall)
    assert (call.tickets, call.answered, call.agreed) == (len(TEXTS), len(TEXTS), agreed)
    assert (call.backend, call.champion_version, call.error) == ("tfidf", "local", None)
    assert call.latency_ms > 0
    assert stored(database, ShadowOutcome) == []


class FailingChallenger:
    """A fake classifier service: its champion answers at once; its challenger hangs until the test
    ends ("hang") or answers 500 ("500"). Counts the challenger calls begun and answered."""

    MODEL = {"name": "callcenterai-tfidf-classifier", "version": "1", "kind": "tfidf"}

    def __init__(self, mode: str):
        self.mode, self.begun, self.answered, self.closing = mode, 0, 0, False
        self.app = FastAPI()
        self.app.get("/ready")(self.ready)
        self.app.get("/model")(self.card)
        self.app.post("/predict/batch")(self.predict_batch)
        self.app.post("/predict")(self.predict)
        self.app.post("/challenger/predict/batch")(self.challenger)

    async def ready(self):
        return {"ready": True, "model": self.MODEL, "challenger": {**self.MODEL, "version": "2"}}

    async def card(self):
        return {**self.MODEL, "file_sha256": {}, "challenger": {"status": "serving", "version": "2"}}

    @staticmethod
    def answer() -> dict:
        return {
            "label": "Access",
            "confidence": 0.9,
            "probabilities": {"Access": 0.9, "Hardware": 0.05, "Storage": 0.05},
        }

    async def predict(self):
        return {**self.answer(), "model": self.MODEL}

    async def predict_batch(self, body: dict):
        return {"predictions": [self.answer() for _ in body["texts"]], "model": self.MODEL}

    async def challenger(self):
        import asyncio

        self.begun += 1
        while self.mode == "hang" and not self.closing:
            await asyncio.sleep(0.02)
        self.answered += 1
        return JSONResponse({"error": "challenger broken"}, status_code=500)


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_a_hanging_challenger_never_delays_a_caller_and_its_tickets_count_as_failed(tmp_path):
    fake = FailingChallenger("hang")
    with (
        served(fake.app, "fake tfidf_svc") as url,
        # No rest after the timeout: the tickets that gathered behind the call are sent too.
        agent_app(tmp_path, url, SHADOW_MAX_CONCURRENCY=1, SHADOW_REST_SECONDS=0) as client,
    ):
        try:
            assert client.post("/predict", json={"text": TEXTS[0]}).status_code == 200
            until(lambda: fake.begun == 1, "the first challenger call")
            # That caller was answered before its challenger call ended (it hangs: SHADOW_TIMEOUT_SECONDS).
            assert fake.answered == 0 and shadowed(client, "failed") == 0
            answers = [client.post("/predict", json={"text": text}) for text in TEXTS[1:6]]
            assert [a.status_code for a in answers] == [200] * 5 and fake.answered == 0
            until(lambda: shadowed(client, "failed") == 6, "the timeouts")
            assert client.get("/ready").status_code == 200
        finally:
            fake.closing = True
    assert fake.begun == 2  # the first ticket's call, then the five that waited behind it
    assert shadowed(client, "agreed") + shadowed(client, "disagreed") == 0
    errors = "callcenterai_agent_backend_errors_total"
    assert sample(client, errors, backend="tfidf_svc", error="timeout") == 0  # the champion's circuit


def test_a_challenger_answering_500_is_counted_failed_stored_with_why_and_logged_once(tmp_path, caplog):
    fake = FailingChallenger("500")
    database = f"sqlite:///{tmp_path / 'review.db'}"
    # No rest after a failure: every ticket is sent, and fails.
    settings = {"SHADOW_MAX_CONCURRENCY": 1, "DATABASE_URL": database, "SHADOW_REST_SECONDS": 0}
    caplog.set_level(logging.WARNING, logger="callcenterai.agent")
    with served(fake.app, "fake tfidf_svc") as url, agent_app(tmp_path, url, **settings) as client:
        for sent, text in enumerate(TEXTS[:4], start=1):
            assert client.post("/predict", json={"text": text}).json()["label"] == "Access"
            until(lambda: shadowed(client, "failed") == sent, "the failure counted")
        until(lambda: len(stored_errors(database)) == 4, "the outcome rows written")
    assert fake.begun == 4  # four failed calls ...
    warned = [r for r in caplog.records if "challenger: no answer (http_5xx)" in r.getMessage()]
    assert len(warned) == 1  # ... logged once
    calls = stored(database, ShadowCall)
    assert [(c.error, c.tickets, c.answered, c.challenger_version, c.champion_version) for c in calls] == [
        ("http_5xx", 1, 0, "2", "1")
    ] * 4


def test_after_a_failed_call_the_challenger_rests_its_tickets_counted_failed_and_not_sent(tmp_path):
    fake = FailingChallenger("500")
    database = f"sqlite:///{tmp_path / 'review.db'}"
    settings = {"SHADOW_MAX_CONCURRENCY": 1, "DATABASE_URL": database, "SHADOW_REST_SECONDS": 600}
    with served(fake.app, "fake tfidf_svc") as url, agent_app(tmp_path, url, **settings) as client:
        for sent, text in enumerate(TEXTS[:4], start=1):
            assert client.post("/predict", json={"text": text}).json()["label"] == "Access"
            until(lambda: shadowed(client, "failed") == sent, "the failure counted")
        until(lambda: len(stored_errors(database)) == 4, "the outcome rows written")
    assert fake.begun == 1  # the first call failed; the next tickets came while it rested: not sent
    assert stored_errors(database) == ["http_5xx", "resting", "resting", "resting"]


@pytest.mark.parametrize(
    "variable, value",
    [("SHADOW_SHARE", "1.5"), ("TRAFFIC_SAMPLE_SHARE", "-0.1"), ("SHADOW_MAX_CONCURRENCY", "64")],
)
def test_a_share_outside_0_to_1_or_a_concurrency_that_could_take_the_whole_pool_is_refused(
    variable, value, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        settings_from_env(AgentSettings)
    monkeypatch.delenv(variable)
    assert settings_from_env(AgentSettings).shadow_max_concurrency == 2
