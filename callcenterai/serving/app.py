"""The classifier service: tfidf_svc and transformer_svc are this app with another kind.

Built from the HTTP kit (``callcenterai.httpkit``: the app skeleton, the error
shape, the API-key check, the request middleware, the probes) and the model
holder. No ``from __future__ import annotations`` here: FastAPI must see the
request models built from the settings as real classes, not strings.
"""

import asyncio
import contextlib
import functools
import threading
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from callcenterai.errors import NotServed
from callcenterai.httpkit.app import admin_post, build_app, prediction_router, reload_counted
from callcenterai.httpkit.auth import api_key_given
from callcenterai.httpkit.responses import ERRORS, JSONBytes
from callcenterai.httpkit.schemas import request_models
from callcenterai.kinds import kind_named
from callcenterai.serving.challenger import ChallengerHolder
from callcenterai.serving.holder import ModelHolder, ReloadRefused, Serving, poll_registry
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.schemas import (
    BatchPrediction,
    ClassifierReadiness,
    Prediction,
    ReloadResult,
    ServedModelCard,
)
from callcenterai.serving.scoring import Answers
from callcenterai.serving.settings import ClassifierSettings

CHALLENGER_PREFIX = "/challenger"
JSON_PATHS = {
    "/predict",
    "/predict/batch",
    f"{CHALLENGER_PREFIX}/predict",
    f"{CHALLENGER_PREFIX}/predict/batch",
}


def model_router(
    holder: ModelHolder,
    challenger: ChallengerHolder,
    metrics: ClassifierMetrics,
    answers: Answers,
    api_key: str | None,
) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/model", response_model=ServedModelCard, responses={503: ERRORS[503]}, summary="The model card"
    )
    async def model_card(detailed: bool = Depends(api_key_given(api_key))):
        card = served_card(answers.serving_now(), detailed)
        return JSONBytes({**card, "challenger": challenger.state.card(detailed)})

    @admin_post(
        router,
        "/admin/reload",
        api_key,
        response_model=ReloadResult,
        summary="Load the current production version and swap it in atomically",
    )
    async def reload():
        def still() -> str:
            return f"serving version {holder.current.model.version if holder.current else 'nothing'}"

        new, previous = await reload_counted(holder.reload, ReloadRefused, metrics.reloads, still)
        was = previous.model.version if previous else "nothing"
        return {
            "reloaded": True,
            "model": new.ref,
            "previous": previous.ref if previous else None,
            "message": f"now serving version {new.model.version} (was {was})",
        }

    return router


def served_card(serving: Serving, detailed: bool) -> dict:
    """GET /model; without the API key, no error text and no local path (a checkpoint folder)."""
    card = ServedModelCard(
        **serving.model.card.model_dump(),
        source=serving.source,
        warning=serving.warning if detailed else serving.public_warning,
        loaded_at=serving.loaded_at,
        backend=serving.model.predictor.backend,
    ).model_dump(mode="json")
    if not detailed:
        for where in (card, card["params"]):
            if isinstance(where.get("checkpoint"), str) and Path(where["checkpoint"]).is_absolute():
                where["checkpoint"] = Path(where["checkpoint"]).name
    return card


def challenger_router(requests: tuple[type[BaseModel], type[BaseModel]], answers: Answers) -> APIRouter:
    """POST /challenger/predict and /challenger/predict/batch: /predict's contract, the challenger answers."""
    router = prediction_router(
        requests, (Prediction, BatchPrediction), answers.predict, answers.predict_batch, CHALLENGER_PREFIX
    )
    for route in router.routes:
        route.summary = f"{route.summary} with the challenger (404 when none is serving)"
    return router


def readiness_of(holder: ModelHolder, challenger: ChallengerHolder, detailed: bool):
    """/ready's check: ``detailed`` (the API key sent) says what went wrong in full."""

    def check() -> tuple[bool, dict]:
        serving = holder.current
        if serving is None:
            return False, {"reason": holder.not_ready_reason if detailed else holder.public_reason}
        warning = serving.warning if detailed else serving.public_warning
        body = {"model": serving.ref, "source": serving.source, "warning": warning}
        return True, {**body, "challenger": challenger.ref}

    return check


def lifespan_of(
    holder: ModelHolder,
    challenger: ChallengerHolder,
    metrics: ClassifierMetrics,
    settings: ClassifierSettings,
):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # Load in the background: /health answers at once, /ready says 503 until loaded.
        # The challenger is checked after each champion swap (ModelHolder's on_swap).
        threading.Thread(target=holder.load_initial, name="model-loader", daemon=True).start()
        poller = None
        if settings.poll_seconds > 0:
            record = lambda result: metrics.reloads.labels(result=result).inc()  # noqa: E731
            # One loop asks about both aliases; the challenger's check runs in a thread of its own,
            # so a challenger download never holds up the next production check.
            check_challenger = functools.partial(challenger.refresh_soon, unless_running=True)
            poller = asyncio.create_task(
                poll_registry(holder, settings.poll_seconds, record, check_challenger)
            )
        yield
        if poller is not None:
            poller.cancel()

    return lifespan


def create_app(settings: ClassifierSettings) -> FastAPI:
    kind = kind_named(settings.kind)
    metrics = ClassifierMetrics(settings.service)

    def swapped(serving: Serving) -> None:
        model = serving.model
        metrics.set_model(model.name, model.version, model.predictor.kind, serving.source)
        challenger.refresh_soon()  # its label set is compared with the champion's

    holder = ModelHolder(settings, on_swap=swapped, on_registry_check=metrics.set_registry_version)
    challenger = ChallengerHolder(settings, holder, metrics)
    requests = request_models(settings.max_text_chars, settings.max_batch)
    answers = Answers(holder, metrics, kind, requests[0])
    # No challenger is a state of the registry, not a fault of the service: 404, not 503.
    challenger_answers = Answers(challenger, metrics, kind, requests[0], counted=False, missing=NotServed)
    fast_paths = {"/predict": answers.fast_predict} if settings.fast_path else None
    app = build_app(
        settings,
        metrics,
        [
            prediction_router(
                requests, (Prediction, BatchPrediction), answers.predict, answers.predict_batch
            ),
            challenger_router(requests, challenger_answers),
            model_router(holder, challenger, metrics, answers, settings.api_key),
        ],
        readiness_of(holder, challenger, detailed=False),
        title=f"CallCenterAI {settings.service}",
        description=(
            f"Classifies IT support tickets with the {kind.title} model. Raw text is normalised "
            "server side with the function that prepared the training data."
        ),
        lifespan=lifespan_of(holder, challenger, metrics, settings),
        json_paths=JSON_PATHS,
        fast_paths=fast_paths,
        readiness_model=ClassifierReadiness,
        readiness_details=readiness_of(holder, challenger, detailed=True),
    )
    app.state.holder, app.state.challenger = holder, challenger
    return app
