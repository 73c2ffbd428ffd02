"""Sign-in (throttled per name) and the review queue (no from __future__: FastAPI reads the signatures)."""

import datetime as dt
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError

from callcenterai.review.store import ReviewError
from callcenterai.web.accounts import verify
from callcenterai.web.security import CsrfField, check_csrf, require_reviewer

REASONS = ("low_confidence", "not_english")  # RoutingPolicy.review_reason
FormText = Annotated[str, Form()]
TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a database integer


def sign_in_router(web) -> APIRouter:
    router = APIRouter()
    render = web.render

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/review"):
        return render(request, "login.html", {"next": _local(next)})

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
        wait = web.sign_ins.retry_after(name)
        if wait:
            minutes = max(1, round(wait / 60))
            context["error"] = f"too many failed sign-ins for this name: try again in {minutes} min"
            response = render(request, "login.html", context, 429)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        if not await anyio.to_thread.run_sync(verify, web.reviewers, name, password):
            web.sign_ins.failed(name)
            return render(request, "login.html", {**context, "error": "wrong name or password"}, 401)
        web.sign_ins.succeeded(name)
        request.session.clear()  # a new session (and CSRF token) at sign-in: no fixation
        request.session["reviewer"] = name
        return RedirectResponse(target, status_code=303)

    @router.post("/logout", dependencies=[Depends(check_csrf)])
    async def logout(request: Request, csrf_token: CsrfField = None):
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return router


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
        reviewer: str = Depends(require_reviewer),
    ):
        try:
            review = await anyio.to_thread.run_sync(
                web.store.record_review, ticket_id, reviewer, label, list(web.labels)
            )
        except ReviewError as exc:
            return render(request, "_review_done.html", {"error": str(exc), "ticket_id": ticket_id}, 422)
        if not request.headers.get("hx-request"):
            return RedirectResponse("/review", status_code=303)
        return render(request, "_review_done.html", {"review": review, "ticket_id": ticket_id})

    return router


def _local(target: str) -> str:
    """Only a path on this site: a sign-in link cannot send anyone elsewhere."""
    return (
        target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/review"
    )


def start_of_today() -> dt.datetime:
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
