"""Sign-in (throttled, password checks bounded) and the review queue (no from __future__: FastAPI)."""

import datetime as dt
import math
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError

from callcenterai.review.store import AlreadyDecided, ReviewError
from callcenterai.web.accounts import verify
from callcenterai.web.security import CsrfField, check_csrf, require_reviewer
from callcenterai.web.throttle import Wait

REASONS = ("low_confidence", "not_english")  # RoutingPolicy.review_reason
FormText = Annotated[str, Form()]
TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a database integer


def sign_in_router(web) -> APIRouter:
    router = APIRouter()
    render = web.render

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/review"):
        return render(request, "login.html", {"next": _local(next), **first_reviewer_help(web)})

    @router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
    async def login(
        request: Request,
        csrf_token: CsrfField = None,
        name: FormText = "",
        password: FormText = "",
        next: FormText = "/review",
    ):
        target = _local(next)
        context = {"next": target, "name": name}
        client = request.client.host if request.client else ""
        if web.password_checks.locked():  # each check holds 64 MiB: refused, not queued, and not counted
            busy = "too many sign-ins are being checked at once (LOGIN_MAX_CONCURRENT_CHECKS)"
            return _must_wait(render, request, context, Wait(busy, 1))
        async with web.password_checks:  # not locked: taken at once, before anything else may take it
            # Counted before the check, so parallel guesses count too; in the database every replica reads.
            wait = await anyio.to_thread.run_sync(web.sign_ins.begin, name, client)
            if wait:
                return _must_wait(render, request, context, wait)
            known = await anyio.to_thread.run_sync(verify, web.reviewers.current(), name, password)
        if not known:
            first = first_reviewer_help(web)
            error = "no reviewer account exists yet" if first else "wrong name or password"
            return render(request, "login.html", {**context, **first, "error": error}, 401)
        await anyio.to_thread.run_sync(web.sign_ins.succeeded, name, client)
        web.sessions.sign_in(request.session, name)
        return RedirectResponse(target, status_code=303)

    @router.post("/logout", dependencies=[Depends(check_csrf)])
    async def logout(request: Request, csrf_token: CsrfField = None):
        if "reviewer" in request.session:  # a copy of this cookie is refused from now on
            await anyio.to_thread.run_sync(web.sessions.revoke, request.session)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return router


def first_reviewer_help(web) -> dict:
    """While nobody can sign in: the page says so, and how an operator makes the first account.

    Once any account exists this is empty, so the page tells a visitor nothing of the
    file or of who may sign in.
    """
    if web.reviewers.has_accounts():
        return {}
    path = web.settings.reviewers_file
    if path is None:
        command = "python scripts/add_reviewer.py NAME --file reviewers.txt"
        then = "then start the web interface again with REVIEWERS_FILE set to that file"
        return {"no_accounts": "REVIEWERS_FILE is not set", "command": command, "then": then}
    command = f"python scripts/add_reviewer.py NAME --file {path}"
    then = "the next sign-in reads it: no restart needed"
    return {"no_accounts": "the reviewers file holds no usable account", "command": command, "then": then}


def review_router(web) -> APIRouter:
    router = APIRouter()
    render = web.render

    @router.get("/review", response_class=HTMLResponse)
    async def queue(request: Request, label: str = "", reason: str = ""):
        if "reviewer" not in request.session:
            return RedirectResponse("/login?next=/review", status_code=303)
        try:
            tickets, counts = await anyio.to_thread.run_sync(web.queue_page, label or None, reason or None)
        except SQLAlchemyError as exc:
            context = {"error": f"the review store is unavailable ({type(exc).__name__})"}
            return render(request, "review.html", context, 503)
        context = {"tickets": tickets, "counts": counts, "label": label, "reason": reason}
        return render(request, "review.html", {**context, "labels": web.labels, "reasons": REASONS})

    @router.post("/review/{ticket_id}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
    async def decide(
        request: Request,
        ticket_id: TicketId,
        csrf_token: CsrfField = None,
        label: FormText = "",
        revise: Annotated[bool, Form()] = False,
        reviewer: str = Depends(require_reviewer),
    ):
        record = web.store.record_review
        try:
            review = await anyio.to_thread.run_sync(
                record, ticket_id, reviewer, label, list(web.labels), revise
            )
        except AlreadyDecided as exc:  # the page offers to send the same label again as a revision
            context = {"error": str(exc), "ticket_id": ticket_id, "revise_label": label}
            return render(request, "_review_done.html", context, 409)
        except ReviewError as exc:
            return render(request, "_review_done.html", {"error": str(exc), "ticket_id": ticket_id}, 422)
        if not request.headers.get("hx-request"):
            return RedirectResponse("/review", status_code=303)
        return render(request, "_review_done.html", {"review": review, "ticket_id": ticket_id})

    return router


def _must_wait(render, request, context: dict, wait: Wait):
    """429 with the reason and when to try again (Retry-After, and in words on the page)."""
    seconds = max(1, math.ceil(wait.seconds))
    later = f"{seconds} s" if seconds < 60 else f"{max(1, round(seconds / 60))} min"
    context = {**context, "error": f"{wait.reason}: try again in {later}"}
    response = render(request, "login.html", context, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _local(target: str) -> str:
    """Only a path on this site: a sign-in link cannot send anyone elsewhere."""
    return (
        target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/review"
    )


def start_of_today() -> dt.datetime:
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
