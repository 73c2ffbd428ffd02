"""Sessions, CSRF and response headers for the web interface.

The session is a signed cookie (Starlette's SessionMiddleware: HttpOnly,
SameSite=strict, and Secure with HSTS unless COOKIE_SECURE=0), checked on every
request by ``SessionGuard`` against the server's rules (``sessions.py``: an
absolute lifetime, sign-outs, removed reviewers). Every state-changing request
carries the session's CSRF token in a form field or the ``X-CSRF-Token``
header (htmx sends it from ``hx-headers``); a missing or wrong one is a 403.
The Content-Security-Policy lets the page load nothing from another origin, and
no page (they hold ticket texts and tokens) is kept by a cache.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

import anyio
from fastapi import Form, HTTPException, Request

from callcenterai.web.sessions import SessionRules, new_session_id

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
NOT_STORED = (b"cache-control", b"no-store")
HSTS = (b"strict-transport-security", b"max-age=31536000")


# Declared by each form route so its schema is complete; check_csrf is what reads and checks it.
CsrfField = Annotated[str | None, Form(description="the session's CSRF token (or X-CSRF-Token)")]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def verify_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, so a 500).
    if not expected or not sent or not hmac.compare_digest(str(sent).encode(), expected.encode()):
        raise HTTPException(403, "the form's security token is missing or out of date: reload the page")


async def check_csrf(request: Request) -> None:
    """A dependency for the urlencoded POSTs: the token must match the one in this session.

    The upload reads its multipart body under a size limit first and checks there."""
    sent = request.headers.get("x-csrf-token")
    ctype = request.headers.get("content-type", "")
    if sent is None and ctype.startswith("application/x-www-form-urlencoded"):
        sent = (await request.form()).get("csrf_token")
    verify_csrf(request, sent)


def session_id(request: Request) -> str:
    """This session's id: what its batch jobs are tied to."""
    return request.session.setdefault("sid", new_session_id())


def reviewer_of(request: Request) -> str | None:
    return request.session.get("reviewer")


def require_reviewer(request: Request) -> str:
    name = reviewer_of(request)
    if name is None:
        raise HTTPException(401, "sign in as a reviewer first")
    return name


class SecurityHeaders:
    """Pure ASGI: the headers above on every response; no-store on all but the static assets;
    HSTS when the cookie is Secure (served over HTTPS)."""

    def __init__(self, app, hsts: bool):
        self.app, self.headers = app, [*HEADERS, *([HSTS] if hsts else [])]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = self.headers if scope["path"].startswith("/static/") else [*self.headers, NOT_STORED]

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class SessionGuard:
    """Pure ASGI, inside SessionMiddleware: a session the rules refuse is emptied before any route
    reads it, and a session about to be written for the first time gets its id and start."""

    def __init__(self, app, rules: SessionRules):
        self.app, self.rules = app, rules

    async def __call__(self, scope, receive, send):
        session = scope.get("session") if scope["type"] == "http" else None
        if session is None:
            return await self.app(scope, receive, send)
        # A database read for a reviewer's session (revoked?): off the event loop.
        if session and not await anyio.to_thread.run_sync(self.rules.valid, session):
            session.clear()

        async def stamped(message):
            if message["type"] == "http.response.start" and session:
                self.rules.stamp(session)
            await send(message)

        await self.app(scope, receive, stamped)
