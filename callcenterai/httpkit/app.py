"""The skeleton every service's app shares, and the admin reload every model-holding service answers.

``build_app`` makes the FastAPI app: the error shape, the service's routers
and the probes, and the request middleware over them, in that order (the
middleware reads the routes to name its metrics by path).
No ``from __future__ import annotations``: FastAPI reads the route signatures.
"""

import logging
from typing import Awaitable, Callable, Iterable, Sequence, TypeVar

import anyio
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from prometheus_client import Counter
from pydantic import BaseModel

from callcenterai import __version__
from callcenterai.httpkit.auth import api_key_required
from callcenterai.httpkit.metrics import HttpMetrics
from callcenterai.httpkit.middleware import FastHandler, install_middleware
from callcenterai.httpkit.probes import ReadinessCheck, probe_router
from callcenterai.httpkit.responses import ADMIN_ERRORS, ERRORS, JSONBytes, install_error_handlers
from callcenterai.httpkit.schemas import Readiness
from callcenterai.httpkit.settings import ServiceSettings

log = logging.getLogger("callcenterai.service")
Result = TypeVar("Result")
# (the valid request body, the request id) -> the answer.
Answer = Callable[[BaseModel, str], Awaitable[dict]]


def build_app(
    settings: ServiceSettings,
    metrics: HttpMetrics,
    routers: Sequence[APIRouter],
    readiness: ReadinessCheck,
    *,
    title: str,
    lifespan,
    json_paths: Iterable[str] = (),
    fast_paths: dict[str, FastHandler] | None = None,
    readiness_model: type[BaseModel] = Readiness,
    readiness_details: ReadinessCheck | None = None,
    install_errors: Callable[[FastAPI], None] = install_error_handlers,
    **fastapi_options,
) -> FastAPI:
    """A service's app: ``fastapi_options`` (description, default_response_class...) go to FastAPI.

    ``readiness`` answers anyone's /ready; ``readiness_details`` those that send the API key.
    """
    app = FastAPI(
        title=title,
        version=__version__,
        lifespan=lifespan,
        **{"default_response_class": JSONBytes, **fastapi_options},
    )
    app.state.metrics, app.state.settings = metrics, settings
    install_errors(app)
    probes = probe_router(
        settings.service, readiness, metrics.registry, readiness_model, readiness_details, settings.api_key
    )
    routers = [*routers, probes]
    for router in routers:
        app.include_router(router)
    keys = settings.client_keys
    install_middleware(app, routers, metrics, settings, set(json_paths), fast_paths, client_keys=keys)
    if json_paths and not keys:
        log.warning("CLIENT_KEYS is not set: anyone who reaches this port may send tickets")
    return app


def prediction_router(
    requests: tuple[type[BaseModel], type[BaseModel]],
    answers: tuple[type[BaseModel], type[BaseModel]],
    one: Answer,
    batch: Answer,
    prefix: str = "",
) -> APIRouter:
    """POST /predict and /predict/batch (under ``prefix``, e.g. ``/challenger``): the request and
    answer models of each, and what answers."""
    predict_request, batch_request = requests
    router = APIRouter(prefix=prefix)

    @router.post("/predict", response_model=answers[0], responses=ERRORS, summary="Classify one ticket")
    async def predict(body: predict_request, request: Request):  # type: ignore[valid-type]
        return JSONBytes(await one(body, request.scope["state"]["request_id"]))

    @router.post(
        "/predict/batch",
        response_model=answers[1],
        responses=ERRORS,
        summary="Classify many tickets in order",
    )
    async def predict_batch(body: batch_request, request: Request):  # type: ignore[valid-type]
        return JSONBytes(await batch(body, request.scope["state"]["request_id"]))

    return router


def admin_post(router: APIRouter, path: str, api_key: str | None, **options):
    """``router.post`` for an admin endpoint: the API key required, its refusals documented."""
    return router.post(
        path, responses=ADMIN_ERRORS, dependencies=[Depends(api_key_required(api_key))], **options
    )


async def reload_counted(
    reload: Callable[[], Result],
    refused: type[Exception],
    reloads: Counter,
    still: Callable[[], str],
) -> Result:
    """Run ``reload`` off the event loop, counted by result; ``refused`` is a 409 saying what stays."""
    try:
        result = await anyio.to_thread.run_sync(reload)
    except refused as exc:
        reloads.labels(result="refused").inc()
        raise HTTPException(409, f"reload refused, still {still()}: {exc}") from None
    reloads.labels(result="ok").inc()
    return result
