"""Sessions through the app: an absolute lifetime, sign-out and reviewer removal that end a session on
the server (a copied cookie included), Secure cookies and HSTS by default, and no page kept by a cache."""

from __future__ import annotations

import base64
import json
import time

import itsdangerous
import pytest

from callcenterai.web.accounts import hash_password
from callcenterai.web.settings import WebSettings
from tests.web.webapp import REVIEWER, in_own_loop, serving, sign_in, token, until, upload, visitor, web_app

COOKIE = "callcenterai_session"
SECRET = "s" * 40  # web_app's SESSION_SECRET


def _resigned(cookie: str, **changes) -> str:
    """The session cookie with ``changes`` to its content, signed now (as any write to a session does)."""
    signer = itsdangerous.TimestampSigner(SECRET)
    content = json.loads(base64.b64decode(signer.unsign(cookie.encode())))
    content.update(changes)
    return signer.sign(base64.b64encode(json.dumps(content).encode())).decode()


def _review_with(app, cookie: str):
    """GET /review from a client that holds nothing but ``cookie``."""

    async def go():
        async with visitor(app) as copy:
            return await copy.get("/review", headers={"cookie": f"{COOKIE}={cookie}"})

    return go()


def test_a_session_ends_at_its_absolute_lifetime_however_recently_it_was_written(tmp_path):
    app = web_app(tmp_path, session_max_age=8 * 3600)

    async def go():
        async with serving(app), visitor(app) as client:
            await sign_in(client)
            cookie = client.cookies[COOKIE]
            young = await _review_with(app, _resigned(cookie, issued=int(time.time()) - 7 * 3600))
            old = await _review_with(app, _resigned(cookie, issued=int(time.time()) - 9 * 3600))
            return young, old

    young, old = in_own_loop(go)
    assert young.status_code == 200
    assert old.status_code == 303 and old.headers["location"].startswith("/login")


def test_a_copied_cookie_is_refused_after_sign_out(tmp_path):
    app = web_app(tmp_path)

    async def go():
        async with serving(app), visitor(app) as client:
            await sign_in(client)
            copied = client.cookies[COOKIE]
            before = await _review_with(app, copied)
            signed_out = await client.post("/logout", data={"csrf_token": await token(client, "/review")})
            return before, signed_out, await _review_with(app, copied)

    before, signed_out, after = in_own_loop(go)
    assert before.status_code == 200 and signed_out.status_code == 303
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


@pytest.mark.parametrize("change", ["removed", "new password"])
def test_a_reviewer_removed_from_the_file_or_given_a_new_password_is_signed_out(tmp_path, change):
    app = web_app(tmp_path)
    reviewers = tmp_path / "reviewers.txt"

    async def go():
        async with serving(app), visitor(app) as client:
            await sign_in(client)
            before = await client.get("/review")
            other = f"bob:{hash_password('another-password-here')}\n"
            if change == "new password":
                other += f"{REVIEWER}:{hash_password('a-new-password-for-alice')}\n"
            reviewers.write_text(other, encoding="utf-8")
            return before, await client.get("/review")

    before, after = in_own_loop(go)
    assert before.status_code == 200
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


def test_cookies_are_secure_with_hsts_unless_switched_off_for_plain_http(tmp_path, monkeypatch):
    default = WebSettings.model_fields["cookie_secure"].default
    secure, plain = web_app(tmp_path, cookie_secure=default), web_app(tmp_path, cookie_secure=False)

    async def go():
        async with visitor(secure, scheme="https") as https, visitor(plain) as http:
            return await https.get("/login"), await http.get("/login")

    over_https, over_http = in_own_loop(go)
    assert "secure" in over_https.headers["set-cookie"].lower().split("; ")
    assert over_https.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" not in over_http.headers["set-cookie"].lower()
    assert "strict-transport-security" not in over_http.headers
    monkeypatch.setenv("COOKIE_SECURE", "0")
    assert WebSettings().cookie_secure is False  # the switch for plain-HTTP development


def test_the_queue_batch_pages_and_downloads_are_not_stored_by_caches(tmp_path):
    app = web_app(tmp_path)

    async def go():
        async with serving(app), visitor(app) as client:
            await sign_in(client)
            job = (await upload(client)).headers["location"]
            await until(lambda: not app.state.web.jobs.tasks)
            pages = [await client.get(path) for path in ("/review", "/batch", job, job + "/results.csv")]
            return pages, await client.get("/static/style.css")

    pages, asset = in_own_loop(go)
    assert [page.status_code for page in pages] == [200] * 4
    assert [page.headers.get("cache-control") for page in pages] == ["no-store"] * 4
    assert asset.status_code == 200 and "no-store" not in asset.headers.get("cache-control", "")
