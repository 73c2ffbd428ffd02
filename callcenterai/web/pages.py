"""The open pages: classify one ticket, score a CSV, see the models (no from __future__: FastAPI)."""

from typing import Annotated

import anyio
import httpx
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callcenterai.web.agent_client import AgentUnavailable
from callcenterai.web.batch import BatchRefused, UploadError, parse_tickets
from callcenterai.web.challengers import LiveGate, challenger_views
from callcenterai.web.forms import read_upload_form
from callcenterai.web.registry_view import registry_challengers, registry_versions
from callcenterai.web.security import CsrfField, check_csrf, session_id, verify_csrf

# When a session may try a refused batch again: a guess, batches take seconds to minutes.
BATCH_RETRY_SECONDS = 30
# /batch reads its body itself (bounded like every body by BodyLimit), so its form is described here.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "csrf_token": {"type": "string"},
                    },
                    "required": ["file"],
                }
            }
        },
    }
}


def page_router(web) -> APIRouter:
    """``web`` is the app's WebContext: settings, templates, agent, jobs."""
    router = APIRouter(dependencies=[Depends(web.classify_access)])
    render = web.render

    @router.get("/", include_in_schema=False)
    async def home():
        return RedirectResponse("/classify", status_code=303)

    @router.get("/classify", response_class=HTMLResponse)
    async def classify_page(request: Request):
        return render(request, "classify.html")

    @router.post("/classify", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
    async def classify(request: Request, csrf_token: CsrfField = None, text: Annotated[str, Form()] = ""):
        context, status = {"text": text}, 422
        if not text.strip():
            context["error"] = "type or paste a ticket first"
        elif len(text) > web.settings.max_text_chars:
            context["error"] = (
                f"the ticket is {len(text)} characters, over the {web.settings.max_text_chars} limit"
            )
        else:
            try:
                context["answer"], context["redaction"] = await web.agent.classify(text)
                status = 200
            except AgentUnavailable as exc:  # 422 for the ticket itself (nothing left...), else the message
                context["error"], status = str(exc), exc.page_status
        template = "_classify_result.html" if request.headers.get("hx-request") else "classify.html"
        return render(request, template, context, status)

    return router


def batch_router(web) -> APIRouter:
    router = APIRouter(dependencies=[Depends(web.classify_access)])
    render = web.render

    @router.get("/batch", response_class=HTMLResponse)
    async def batch_page(request: Request):
        return render(request, "batch.html")

    @router.post("/batch", response_class=HTMLResponse, openapi_extra=UPLOAD_BODY)
    async def upload(request: Request):
        form = await read_upload_form(request)
        verify_csrf(request, request.headers.get("x-csrf-token") or form.get("csrf_token"))
        upload, owner = form.get("file"), session_id(request)
        template = "_batch_job.html" if request.headers.get("hx-request") else "batch.html"
        try:
            await anyio.to_thread.run_sync(web.jobs.check_room, owner)  # before parsing; start checks again
            if upload is None or isinstance(upload, str):
                raise UploadError("choose a CSV file to upload")
            raw = await upload.read()
            limits = (web.settings.max_upload_rows, web.settings.max_text_chars)
            texts = await anyio.to_thread.run_sync(parse_tickets, raw, *limits)
            job = await web.jobs.start(texts, web.agent.score, owner)
        except UploadError as exc:
            return render(request, template, {"error": str(exc)}, 422)
        except BatchRefused as exc:
            refused = render(request, template, {"error": str(exc)}, 429)
            refused.headers["Retry-After"] = str(BATCH_RETRY_SECONDS)
            return refused
        if request.headers.get("hx-request"):
            return render(request, "_batch_job.html", {"job": job})
        return RedirectResponse(f"/batch/{job.id}", status_code=303)

    @router.get("/batch/{job_id}", response_class=HTMLResponse)
    async def batch_job(request: Request, job_id: str):
        job = await web.jobs.get(job_id, session_id(request))
        if job is None:
            return render(request, "batch.html", {"error": "no such batch (it may have expired)"}, 404)
        template = "_batch_job.html" if request.headers.get("hx-request") else "batch.html"
        return render(request, template, {"job": job})

    @router.get("/batch/{job_id}/results.csv")
    async def batch_csv(request: Request, job_id: str):
        job = await web.jobs.get(job_id, session_id(request))
        if job is None or not job.done or job.error:
            return Response("no finished batch with that id\n", status_code=404, media_type="text/plain")
        headers = {"Content-Disposition": f'attachment; filename="tickets-{job_id[:8]}.csv"'}
        return Response(job.csv(), media_type="text/csv; charset=utf-8", headers=headers)

    return router


def models_router(web) -> APIRouter:
    router = APIRouter()
    render = web.render

    @router.get("/models", response_class=HTMLResponse)
    async def models(request: Request):
        context = {"mlflow_ui": web.settings.mlflow_ui_url, "grafana": web.settings.grafana_url}
        try:
            context["agent"] = await web.agent.models()
        except AgentUnavailable as exc:
            context["agent_error"] = str(exc)
        named = await _registry_part(web, context) if web.settings.mlflow_url else {}
        context["gate"] = gate = LiveGate(web.settings.registry_tolerance, web.settings.registry_min_reviewed)
        store = web.store if web.store_ready else None
        context["challengers"] = await anyio.to_thread.run_sync(
            challenger_views, context.get("agent"), named, store, gate
        )
        return render(request, "models.html", context)

    return router


async def _registry_part(web, context: dict) -> dict[str, str | None]:
    """The registry table (or why there is none) into ``context``; each kind's challenger version."""
    mlflow_url = web.settings.mlflow_url
    try:
        context["registry"] = await registry_versions(web.agent.client, mlflow_url)
        return await registry_challengers(web.agent.client, mlflow_url)
    except httpx.HTTPStatusError as exc:
        status, said = exc.response.status_code, exc.response.text[:200]
        context["registry_error"] = f"MLflow at {mlflow_url} refused ({status}): {said}"
    except httpx.HTTPError as exc:
        context["registry_error"] = f"MLflow at {mlflow_url} did not answer ({type(exc).__name__})"
    return {}
