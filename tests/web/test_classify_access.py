"""Classify and batch need a signed-in reviewer by default (every flagged ticket lands in the review
queue): a page asked for anonymously redirects to sign-in, a form sent anonymously is a 401 that
never reaches the agent; a ticket the agent refuses as such is the visitor's 422; an agent that does
not answer is said on the page, never a 5xx.
"""

from __future__ import annotations

from callcenterai.text import NOTHING_TO_CLASSIFY
from callcenterai.web.agent_client import TicketRefused
from callcenterai.web.settings import WebSettings
from tests.web.webapp import in_own_loop, serving, sign_in, token, visitor, web_app


def test_sign_in_is_required_to_classify_unless_switched_off():
    assert WebSettings.model_fields["classify_requires_login"].default is True


def test_an_anonymous_visitor_is_sent_to_sign_in_and_its_forms_are_refused(tmp_path):
    app = web_app(tmp_path, classify_requires_login=True)

    async def scenario():
        async with serving(app) as agent, visitor(app) as anonymous:
            pages = [await anonymous.get(path) for path in ("/classify", "/batch")]
            csrf = await token(anonymous, "/login")
            classify = await anonymous.post("/classify", data={"text": "printer jam", "csrf_token": csrf})
            files = {"file": ("t.csv", b"text\nprinter jam\n", "text/csv")}
            batch = await anonymous.post("/batch", files=files, data={"csrf_token": csrf})
            return pages, classify, batch, list(agent.classified)

    pages, classify, batch, classified = in_own_loop(scenario)
    assert [(p.status_code, p.headers["location"]) for p in pages] == [
        (303, "/login?next=/classify"),
        (303, "/login?next=/batch"),
    ]
    assert classify.status_code == 401 and "sign in" in classify.text
    assert batch.status_code == 401
    assert classified == []


def test_a_signed_in_reviewer_classifies(tmp_path):
    app = web_app(tmp_path, classify_requires_login=True)

    async def scenario():
        async with serving(app) as agent, visitor(app) as reviewer:
            back = await reviewer.post(
                "/login",
                data={
                    "name": "alice",
                    "password": "a-test-password-not-a-secret",
                    "next": "/classify",
                    "csrf_token": await token(reviewer, "/login"),
                },
            )
            page = await reviewer.post(
                "/classify", data={"text": "printer jam", "csrf_token": await token(reviewer)}
            )
            return back, page, list(agent.classified)

    back, page, classified = in_own_loop(scenario)
    assert back.status_code == 303 and back.headers["location"] == "/classify"
    assert classified == ["printer jam"] and page.status_code == 200  # the stand-in agent does not answer
    assert "did not answer" in page.text


def test_a_ticket_the_agent_refuses_is_the_visitors_422_with_the_agents_reason(tmp_path):
    app = web_app(tmp_path)  # anonymous classify switched on, as in the stand-in's other tests

    async def refuse(text: str):
        raise TicketRefused(f"the agent cannot classify this: text: {NOTHING_TO_CLASSIFY}")

    async def scenario():
        async with serving(app) as agent, visitor(app) as anonymous:
            agent.classify = refuse
            return await anonymous.post(
                "/classify", data={"text": "!!!", "csrf_token": await token(anonymous)}
            )

    page = in_own_loop(scenario)
    assert page.status_code == 422 and NOTHING_TO_CLASSIFY in page.text


def test_a_signed_in_reviewer_gets_the_pages(tmp_path):
    app = web_app(tmp_path, classify_requires_login=True)

    async def scenario():
        async with serving(app), visitor(app) as reviewer:
            await sign_in(reviewer)
            return await reviewer.get("/classify"), await reviewer.get("/batch")

    for page in in_own_loop(scenario):
        assert page.status_code == 200
