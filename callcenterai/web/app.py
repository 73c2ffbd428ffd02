"""The web interface's FastAPI app: server-rendered pages (Jinja2, htmx vendored) over the agent.

No ``from __future__ import annotations``: FastAPI reads the route signatures.
"""

import asyncio
import contextlib
import functools
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from callcenterai.config import LABELS
from callcenterai.httpkit.app import build_app
from callcenterai.httpkit.metrics import HttpMetrics
from callcenterai.review.store import ReviewStore
from callcenterai.review.web_state import BatchJobs, RevokedSessions, SignInAttempts
from callcenterai.web.accounts import ReviewerFile
from callcenterai.web.agent_client import AgentClient
from callcenterai.web.batch import JobLimits, Jobs
from callcenterai.web.forms import BodyLimit
from callcenterai.web.pages import batch_router, models_router, page_router
from callcenterai.web.review_pages import review_router, sign_in_router, start_of_today
from callcenterai.web.security import SecurityHeaders, SessionGuard, csrf_token, reviewer_of
from callcenterai.web.sessions import SessionRules
from callcenterai.web.settings import WebSettings
from callcenterai.web.throttle import SignInThrottle
from callcenterai.web.wording import FILTERS

HERE = Path(__file__).parent
log = logging.getLogger("callcenterai.web")


class WebContext:
    """What the routes share: settings, templates, the agent client, batch jobs and the review store."""

    def __init__(self, settings: WebSettings):
        self.settings = settings
        self.templates = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
        self.templates.env.filters.update(FILTERS)
        self.agent = AgentClient(
            settings.agent_url, settings.agent_timeout, settings.agent_batch, settings.agent_client_key
        )
        # Everything replicas must agree on lives in the review database: batch jobs, sign-in attempts,
        # revoked sessions (review.web_state); the session itself is a cookie signed with SESSION_SECRET.
        self.store = ReviewStore(settings.database_url, settings.database_password)
        limits = JobLimits(
            settings.max_running_batches,
            settings.max_running_batches_per_session,
            settings.batch_keep_seconds,
            settings.batch_lease_seconds,
        )
        self.jobs = Jobs(BatchJobs(self.store), limits)
        self.reviewers = ReviewerFile(settings.reviewers_file)
        self.sessions = SessionRules(settings.session_max_age, self.reviewers, RevokedSessions(self.store))
        self.sign_ins = SignInThrottle(
            SignInAttempts(self.store),
            settings.login_max_failures,
            settings.login_window_seconds,
            settings.login_max_failures_per_client,
        )
        self.password_checks = asyncio.Semaphore(settings.login_max_concurrent_checks)
        self.labels = LABELS
        self.store_ready = False

    def render(self, request: Request, name: str, context: dict | None = None, status: int = 200):
        base = {"csrf": csrf_token(request), "reviewer": reviewer_of(request), "path": request.url.path}
        return self.templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status)

    async def classify_access(self, request: Request) -> None:
        """With CLASSIFY_REQUIRES_LOGIN: a page asked for is a redirect to sign-in, a form sent a 401."""
        if self.settings.classify_requires_login and reviewer_of(request) is None:
            if request.method == "GET":
                location = f"/login?next={quote(request.url.path)}"
                raise HTTPException(303, "sign in to classify tickets", headers={"Location": location})
            raise HTTPException(401, "sign in to classify tickets (CLASSIFY_REQUIRES_LOGIN is on)")

    def queue_page(self, label: str | None, reason: str | None):
        return self.store.pending(label, reason, limit=50), self.store.counts(start_of_today())

    def readiness(self) -> tuple[bool, dict]:
        if not self.store_ready:
            return False, {"service": self.settings.service, "reason": "the review store is not migrated yet"}
        return True, {"service": self.settings.service}


def error_pages(app: FastAPI, web: WebContext) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 303:  # a page that needs a sign-in first
            return RedirectResponse(exc.headers["Location"], status_code=303)
        if request.headers.get("accept", "").startswith("text/html") or request.headers.get("hx-request"):
            return web.render(
                request, "error.html", {"status": exc.status_code, "message": exc.detail}, exc.status_code
            )
        return PlainTextResponse(f"{exc.detail}\n", status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return await http_error(request, HTTPException(422, describe_invalid(exc)))


def describe_invalid(exc: RequestValidationError) -> str:
    """One line naming each bad field, for a person reading a page (not the JSON FastAPI sends)."""
    problems = [f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors()[:3]]
    return "the request is not valid: " + "; ".join(problems)


def lifespan_of(web: WebContext):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            await anyio.to_thread.run_sync(web.store.migrate)
            web.store_ready = True
        except Exception as exc:  # noqa: BLE001 - /ready says so; classify and batch still work
            log.warning("review store unavailable: %s", type(exc).__name__)
        yield
        await web.jobs.stop_all()
        await web.agent.aclose()

    return lifespan


def create_app(settings: WebSettings) -> FastAPI:
    web = WebContext(settings)
    routers = [
        page_router(web),
        batch_router(web),
        models_router(web),
        sign_in_router(web),
        review_router(web),
    ]
    app = build_app(
        settings,
        HttpMetrics(settings.service),
        routers,
        web.readiness,
        title="CallCenterAI web interface",
        lifespan=lifespan_of(web),
        install_errors=functools.partial(error_pages, web=web),
        docs_url=None,
        redoc_url=None,
        default_response_class=HTMLResponse,
    )
    app.state.web = web
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    secret = settings.session_secret or secrets.token_urlsafe(32)
    if settings.session_secret is None:
        log.warning("SESSION_SECRET is not set: sessions end when this process restarts")
    limits = {"/batch": ("MAX_UPLOAD_BYTES", settings.max_upload_bytes)}
    app.add_middleware(BodyLimit, limits=limits, default=("MAX_FORM_BYTES", settings.form_limit))
    app.add_middleware(SessionGuard, rules=web.sessions)  # inside SessionMiddleware: it reads the session
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="callcenterai_session",
        max_age=settings.session_max_age,
        same_site="strict",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    return app
