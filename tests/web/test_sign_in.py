"""Sign-in through the app: an attempt counts before its password is checked, password checks at once
are bounded, and one client address cannot try names without end. The argon2 check is replaced by one
that waits until the test lets it go, so "in parallel" is certain rather than likely."""

from __future__ import annotations

import asyncio
import threading

import pytest
from argon2.exceptions import VerifyMismatchError

from callcenterai.web import accounts
from tests.web.webapp import PASSWORD, in_own_loop, serving, sign_in, until, visitor, web_app


class HeldHasher:
    """Checks passwords like argon2 (this one password is right) but each waits for ``release``."""

    def __init__(self):
        self.release, self.lock, self.checks = threading.Event(), threading.Lock(), 0

    def verify(self, hashed: str, password: str) -> bool:
        with self.lock:
            self.checks += 1
        self.release.wait(timeout=60)
        if password != PASSWORD:
            raise VerifyMismatchError()
        return True


@pytest.fixture()
def hasher(monkeypatch):
    held = HeldHasher()
    monkeypatch.setattr(accounts, "_HASHER", held)
    return held


def _in_parallel(app, hasher, attempts: list[tuple[str, str]]):
    """The sign-ins sent at once; the checks are released once each has been checked or answered."""

    async def go():
        async with serving(app), visitor(app) as client:
            await client.get("/login")  # the session (and CSRF token) they share
            sent = [asyncio.ensure_future(sign_in(client, name, password)) for name, password in attempts]
            await until(lambda: hasher.checks + sum(task.done() for task in sent) >= len(sent))
            hasher.release.set()
            return await asyncio.gather(*sent), hasher.checks

    return in_own_loop(go)


def test_parallel_guesses_for_one_name_are_counted_before_any_is_checked(tmp_path, hasher):
    app = web_app(tmp_path, login_max_failures=2, login_max_concurrent_checks=10)
    answers, checks = _in_parallel(app, hasher, [("alice", f"guess {n}") for n in range(6)])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401, 401, 429, 429, 429, 429] and checks == 2
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert (
        "too many failed sign-ins for this name" in refused.text and int(refused.headers["retry-after"]) > 0
    )


def test_password_checks_at_once_are_bounded_and_the_rest_told_to_retry(tmp_path, hasher):
    app = web_app(tmp_path, login_max_concurrent_checks=2)
    answers, checks = _in_parallel(app, hasher, [(f"name{n}", "a guess") for n in range(4)])
    assert sorted(answer.status_code for answer in answers) == [401, 401, 429, 429] and checks == 2
    busy = next(answer for answer in answers if answer.status_code == 429)
    assert "LOGIN_MAX_CONCURRENT_CHECKS" in busy.text and busy.headers["retry-after"] == "1"


def test_one_address_cannot_try_made_up_names_without_end(tmp_path, hasher):
    hasher.release.set()
    app = web_app(tmp_path, login_max_failures_per_client=3)

    async def go():
        async with (
            serving(app),
            visitor(app, "203.0.113.7") as guesser,
            visitor(app, "198.51.100.2") as other,
        ):
            made_up = [await sign_in(guesser, f"made-up-{n}", "a guess") for n in range(4)]
            return made_up, await sign_in(other)

    made_up, other = in_own_loop(go)
    assert [answer.status_code for answer in made_up] == [401, 401, 401, 429]
    assert "too many failed sign-ins from this address" in made_up[-1].text
    assert other.status_code == 303  # another address is not held up
