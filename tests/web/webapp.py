"""The web interface's app in this process, without a server: visitors are httpx clients over
ASGITransport (each with its own cookies), all on one event loop run in its own thread, in front of
a stand-in agent."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import re
import threading
from pathlib import Path

import httpx

from callcenterai.agent.flow import batch_refusal
from callcenterai.httpkit.responses import answer_to
from callcenterai.text import wordless
from callcenterai.web.accounts import hash_password
from callcenterai.web.agent_client import AgentClient, AgentUnavailable
from callcenterai.web.app import create_app
from callcenterai.web.settings import WebSettings

REVIEWER, PASSWORD = "alice", "a-test-password-not-a-secret"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ANSWER = {
    "label": "Hardware",
    "confidence": 0.91234,
    "route": {"model": "tfidf"},
    "needs_review": False,
    "redacted": {"EMAIL": 1},
}


def in_own_loop(coroutine_function, timeout: float = 120):
    """Run it in a fresh event loop on its own thread: another test's session fixture (Playwright's
    sync API) may hold a running loop in the main thread, where asyncio.run would refuse."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result(timeout=timeout)


@functools.lru_cache(maxsize=1)
def reviewer_line() -> str:
    return f"{REVIEWER}:{hash_password(PASSWORD)}\n"


def web_app(folder: Path, **settings):
    """The app over a review store and a reviewers file (alice) in ``folder``, on plain HTTP."""
    reviewers = folder / "reviewers.txt"
    if not reviewers.exists():
        reviewers.write_text(reviewer_line(), encoding="utf-8")
    defaults = {
        "database_url": f"sqlite:///{folder / 'review.db'}",
        "reviewers_file": reviewers,
        "session_secret": "s" * 40,
        "cookie_secure": False,
        "classify_requires_login": False,  # anonymous visitors classify and score batches here
        "agent_url": "http://127.0.0.1:9",
    }
    return create_app(WebSettings(**{**defaults, **settings}))


class StandInAgent:
    """Scores every ticket of a batch as ANSWER (while ``hold`` is clear, a batch waits before its first
    chunk); a single ticket is noted in ``classified`` and refused as an agent that did not answer."""

    def __init__(self):
        self.hold = threading.Event()
        self.hold.set()
        self.classified: list[str] = []

    async def classify(self, text: str):
        self.classified.append(text)
        raise AgentUnavailable("the agent at stand-in did not answer")

    async def score(self, texts):
        while not self.hold.is_set():
            await asyncio.sleep(0.01)
        yield [ANSWER] * len(texts)

    async def aclose(self) -> None:
        return None


def redacted(text: str) -> dict:
    """A stand-in for the agent's redaction of ``text`` (the real scrubber is tested in tests/pii)."""
    return {"text": f"as seen: {text}", "counts": {}, "entities": []}


class AgentOverHTTP:
    """The agent's /predict/batch as the web interface's real client meets it: a batch holding a ticket
    with nothing left to classify is refused whole, as the agent refuses it (a 422 in the shared error
    shape naming each such ticket), any other is scored as ANSWER, with a stand-in redaction of each
    text (``redacted(text)``) when asked for one; each batch sent is kept in ``sent``."""

    def __init__(self):
        self.sent: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        texts = body["texts"]
        self.sent.append(texts)
        empty = wordless(texts)
        if empty:
            refusal = answer_to(batch_refusal(empty))
            return httpx.Response(refusal.status_code, content=refusal.body, headers=dict(refusal.headers))
        answers = [{**ANSWER, "redaction": redacted(text)} for text in texts]
        if not body.get("include_redaction"):
            answers = [ANSWER] * len(texts)
        return httpx.Response(200, json={"predictions": answers, "model": "stand-in"})

    def client(self, batch: int) -> AgentClient:
        return agent_client_over(self, batch)


def agent_client_over(answer, batch: int) -> AgentClient:
    """The web interface's agent client, in chunks of ``batch``, where ``answer`` answers each request."""
    client = AgentClient("http://agent.test", timeout=5, batch=batch)
    client.client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return client


@contextlib.asynccontextmanager
async def serving(app, agent=None):
    """The app's start and shutdown around the block (the store migrated, batch jobs stopped), in front
    of ``agent`` (a StandInAgent unless given)."""
    app.state.web.agent = agent = agent or StandInAgent()
    async with app.router.lifespan_context(app):
        yield agent


def visitor(app, address: str = "127.0.0.1", scheme: str = "http") -> httpx.AsyncClient:
    """One browser: its own cookies, from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(
        transport=transport, base_url=f"{scheme}://testserver", headers={"accept": "text/html"}, timeout=60
    )


async def token(client: httpx.AsyncClient, path: str = "/classify") -> str:
    return TOKEN.search((await client.get(path)).text).group(1)


async def sign_in(client: httpx.AsyncClient, name: str = REVIEWER, password: str = PASSWORD):
    form = {"name": name, "password": password, "csrf_token": await token(client, "/login")}
    return await client.post("/login", data=form)


async def upload(client: httpx.AsyncClient, content: bytes = b"text\nprinter jam\nvpn down\n"):
    files = {"file": ("tickets.csv", content, "text/csv")}
    return await client.post("/batch", files=files, data={"csrf_token": await token(client, "/batch")})


async def until(condition, seconds: float = 30) -> None:
    """Wait (without asserting) for ``condition`` to hold; the test's assertions then decide."""
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
