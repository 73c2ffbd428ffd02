"""The classifier service: tfidf_svc and transformer_svc are this app with another kind.

Built from the shared parts: settings, the error shape (``responses``), the
API-key check (``auth``), the request middleware, the probes, and the model
holder. No ``from __future__ import annotations`` here: FastAPI must see the
request models built from the settings as real classes, not strings.
"""

import asyncio
import contextlib
import threading
import time

import anyio
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from callcenterai import __version__
from callcenterai.kinds import kind_named
from callcenterai.serving.auth import api_key_required
from callcenterai.serving.holder import ModelHolder, ReloadRefused, poll_registry
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.middleware import install_middleware
from callcenterai.serving.probes import probe_router
from callcenterai.serving.responses import ADMIN_ERRORS, ERRORS, JSONBytes, install_error_handlers
from callcenterai.serving.schemas import (
    BatchPrediction,
    Prediction,
    ReloadResult,
    ServedModelCard,
    request_models,
)
from callcenterai.serving.scoring import Answers
from callcenterai.serving.settings import ClassifierSettings

JSON_PATHS = {"/predict", "/predict/batch"}


def prediction_router(answers: Answers, predict_request, batch_request) -> APIRouter:
    router = APIRouter()

    @router.post("/predict", response_model=Prediction, responses=ERRORS, summary="Classify one ticket")
    async def predict(body: predict_request, request: Request):  # type: ignore[valid-type]
        started = time.perf_counter()
        serving = answers.serving_now()
        return JSONBytes(await answers.one(serving, body.text, request.scope["state"]["request_id"], started))

    @router.post(
        "/predict/batch",
        response_model=BatchPrediction,
        responses=ERRORS,
        summary="Classify many tickets in order",
    )
    async def predict_batch(body: batch_request, request: Request):  # type: ignore[valid-type]
        return JSONBytes(await answers.batch(body.texts, request.scope["state"]["request_id"]))

    return router


def model_router(
    holder: ModelHolder, metrics: ClassifierMetrics, answers: Answers, api_key: str | None
) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/model", response_model=ServedModelCard, responses={503: ERRORS[503]}, summary="The model card"
    )
    async def model_card():
        serving = answers.serving_now()
        card = ServedModelCard(
            **serving.model.card.model_dump(),
            source=serving.source,
            warning=serving.warning,
            loaded_at=serving.loaded_at,
            backend=serving.model.predictor.backend,
        )
        return JSONBytes(card.model_dump(mode="json"))

    @router.post(
        "/admin/reload",
        response_model=ReloadResult,
        responses=ADMIN_ERRORS,
        dependencies=[Depends(api_key_required(api_key))],
        summary="Load the current production version and swap it in atomically",
    )
    async def reload():
        try:
            new, previous = await anyio.to_thread.run_sync(holder.reload)
        except ReloadRefused as exc:
            metrics.reloads.labels(result="refused").inc()
            still = holder.current.model.version if holder.current else "nothing"
            raise HTTPException(409, f"reload refused, still serving version {still}: {exc}") from None
        metrics.reloads.labels(result="ok").inc()
        was = previous.model.version if previous else "nothing"
        return {
            "reloaded": True,
            "model": new.ref,
            "previous": previous.ref if previous else None,
            "message": f"now serving version {new.model.version} (was {was})",
        }

    return router


def readiness_of(holder: ModelHolder):
    def check() -> tuple[bool, dict]:
        serving = holder.current
        if serving is None:
            return False, {"reason": holder.not_ready_reason}
        return True, {"model": serving.ref, "source": serving.source, "warning": serving.warning}

    return check


def lifespan_of(holder: ModelHolder, metrics: ClassifierMetrics, settings: ClassifierSettings):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # Load in the background: /health answers at once, /ready says 503 until loaded.
        threading.Thread(target=holder.load_initial, name="model-loader", daemon=True).start()
        poller = None
        if settings.poll_seconds > 0:
            record = lambda result: metrics.reloads.labels(result=result).inc()  # noqa: E731
            poller = asyncio.create_task(poll_registry(holder, settings.poll_seconds, record))
        yield
        if poller is not None:
            poller.cancel()

    return lifespan


def create_app(settings: ClassifierSettings) -> FastAPI:
    kind = kind_named(settings.kind)
    metrics = ClassifierMetrics(settings.service)
    holder = ModelHolder(
        settings,
        on_swap=lambda s: metrics.set_model(s.model.name, s.model.version, s.model.predictor.kind, s.source),
    )
    predict_request, batch_request = request_models(settings.max_text_chars, settings.max_batch)
    answers = Answers(holder, metrics, kind, predict_request)
    app = FastAPI(
        title=f"CallCenterAI {settings.service}",
        version=__version__,
        description=(
            f"Classifies IT support tickets with the {kind.title} model. Raw text is normalised "
            "server side with the function that prepared the training data."
        ),
        lifespan=lifespan_of(holder, metrics, settings),
        default_response_class=JSONBytes,
    )
    app.state.holder, app.state.metrics, app.state.settings = holder, metrics, settings
    install_error_handlers(app)
    routers = [
        prediction_router(answers, predict_request, batch_request),
        model_router(holder, metrics, answers, settings.api_key),
        probe_router(settings.service, readiness_of(holder), metrics.registry),
    ]
    for router in routers:
        app.include_router(router)
    fast_paths = {"/predict": answers.fast_predict} if settings.fast_path else None
    install_middleware(app, routers, metrics, settings, JSON_PATHS, fast_paths)
    return app
