"""Load on the agent while a fault happens: client threads sending /predict back to back, every
request's outcome kept.

Each ticket is unique (a real test-split text plus a made-up word, so even the agent's
duplicate gate, which compares texts as the models read them, sees a new ticket) and carries
its own X-Request-ID, by which the review store's rows are matched to the answers.

A new connection per request, so a connection closed on the client is never the race of a
kept-alive one closed while idle. An agent that stops (SIGTERM) refuses new connections, and
uvicorn closes those it accepted but has not read a request from (and the kernel resets those
still queued): the client sees the connection closed before any answer. Both are sent again
(counted: refused, closed before an answer). Sending a ticket the agent had in fact read would show
up as a flagged ticket stored twice, which every case checks. A timeout is not sent again.
"""

from __future__ import annotations

import itertools
import string
import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from tests.faults.processes import wait_until

RETRY_SECONDS = 0.25
# A ticket whose connections are refused or closed this long is given up (and reported so).
GIVE_UP_SECONDS = 120.0
# One numbering for every load of the run: the agent lets each text in once an hour, across cases too.
TICKET_NUMBERS = itertools.count()


def code_word(number: int) -> str:
    """A word of letters only (normalisation drops digits) that no other ticket of the run has."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = string.ascii_lowercase[digit] + letters
        if not number:
            return "zz" + letters


@dataclass
class Outcome:
    request_id: str
    text: str
    status: int | None = None  # None: no HTTP answer at all
    error: str = ""  # refused | closed | timeout, when no answer came
    refused_attempts: int = 0  # connections refused before the one that was answered (or given up)
    closed_attempts: int = 0  # connections closed before any answer, before the one answered
    needs_review: bool = False
    degraded: bool = False
    route_model: str = ""
    seconds: float = 0.0  # from the first attempt to the answer (or the error)


def classify_error(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "closed"  # the connection was open and closed before an answer came back


class Load:
    """``threads`` clients sending the ``texts`` in turn to ``url``/predict until ``stop``."""

    def __init__(self, url: str, case: str, texts: list[str], threads: int = 3, timeout: float = 30):
        self.url, self.case, self.texts, self.threads, self.timeout = url, case, texts, threads, timeout
        self.outcomes: list[Outcome] = []
        self._lock, self._stop, self._workers = threading.Lock(), threading.Event(), []
        self.started = self.ended = 0.0

    def _ticket(self) -> tuple[str, str]:
        number = next(TICKET_NUMBERS)  # itertools.count is thread-safe in CPython
        text = f"{self.texts[number % len(self.texts)]} {code_word(number)}"
        return f"fault-{self.case}-{number:07d}", text

    def _send(self, client: httpx.Client, request_id: str, text: str) -> Outcome:
        outcome, started = Outcome(request_id, text), time.monotonic()
        try:
            return self._attempts(client, outcome)
        finally:
            outcome.seconds = time.monotonic() - started

    def _attempts(self, client: httpx.Client, outcome: Outcome) -> Outcome:
        request_id, text, first_refusal = outcome.request_id, outcome.text, None
        while True:
            try:
                response = client.post(
                    self.url + "/predict", json={"text": text}, headers={"X-Request-ID": request_id}
                )
            except httpx.HTTPError as exc:
                outcome.error = classify_error(exc)
                if outcome.error == "timeout":
                    return outcome
                if outcome.error == "closed":
                    outcome.closed_attempts += 1
                else:
                    outcome.refused_attempts += 1
                first_refusal = first_refusal or time.monotonic()
                if time.monotonic() - first_refusal > GIVE_UP_SECONDS:
                    return outcome
                time.sleep(RETRY_SECONDS)
                continue
            outcome.status, outcome.error = response.status_code, ""
            if response.status_code == 200:
                body = response.json()
                outcome.needs_review, outcome.degraded = body["needs_review"], body["degraded"]
                outcome.route_model = body["route"]["model"]
            return outcome

    def _loop(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=self.timeout, limits=limits) as client:
            while not self._stop.is_set():
                outcome = self._send(client, *self._ticket())
                with self._lock:
                    self.outcomes.append(outcome)

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        self._workers = [threading.Thread(target=self._loop, daemon=True) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join()
        self.ended = time.monotonic()

    def recent(self, count: int) -> list[Outcome]:
        with self._lock:
            return self.outcomes[-count:]

    def count(self) -> int:
        with self._lock:
            return len(self.outcomes)

    def wait_for(self, more: int, what: str, seconds: float = 60) -> None:
        """Until ``more`` outcomes beyond those seen now have come in."""
        target = self.count() + more
        wait_until(lambda: self.count() >= target, what, seconds)

    def routes(self) -> Counter:
        return Counter(o.route_model for o in self.outcomes if o.status == 200)
