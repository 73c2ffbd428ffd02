"""The agent's FastAPI app, from the shared serving parts and the agent's own flow.

No ``from __future__ import annotations``: FastAPI must see the request models
built from the settings as real classes.
"""

import asyncio
import contextlib
import time

import anyio
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from callcenterai import __version__
from callcenterai.agent.backends import Backend, probe_forever
from callcenterai.agent.decisions import batch_ref
from callcenterai.agent.flow import Agent
from callcenterai.agent.http_client import BackendClient
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.review_writer import ReviewWriter
from callcenterai.agent.schemas import AgentBatchPrediction, AgentModels, AgentPrediction, Redaction
from callcenterai.agent.settings import AgentSettings
from callcenterai.pii.scrubber import Scrubber
from callcenterai.routing.policy import PolicyError
from callcenterai.serving.auth import api_key_required
from callcenterai.serving.middleware import install_middleware
from callcenterai.serving.probes import probe_router
from callcenterai.serving.responses import ADMIN_ERRORS, ERRORS, JSONBytes, install_error_handlers
from callcenterai.serving.schemas import request_models, text_or_none

JSON_PATHS = {"/predict", "/predict/batch", "/redact"}


async def answer_one(agent: Agent, text: str, request_id: str) -> dict:
    started = time.perf_counter()
    answer = await agent.one(text, request_id)
    answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return answer


def fast_predict_of(agent: Agent, predict_request):
    """/predict from the body bytes, past FastAPI's routing (see serving.middleware).

    A body the request model refuses is declined (None), so the route words the 4xx.
    """

    async def fast_predict(body: bytes, request_id: str) -> bytes | None:
        text = text_or_none(predict_request, body)
        if text is None:
            return None
        return orjson.dumps(await answer_one(agent, text, request_id), option=orjson.OPT_SERIALIZE_NUMPY)

    return fast_predict


def prediction_router(agent: Agent, predict_request, batch_request) -> APIRouter:
    router = APIRouter()

    @router.post("/predict", response_model=AgentPrediction, responses=ERRORS, summary="Classify one ticket")
    async def predict(body: predict_request, request: Request):  # type: ignore[valid-type]
        return JSONBytes(await answer_one(agent, body.text, request.scope["state"]["request_id"]))

    @router.post(
        "/predict/batch",
        response_model=AgentBatchPrediction,
        responses=ERRORS,
        summary="Classify many tickets",
    )
    async def predict_batch(body: batch_request, request: Request):  # type: ignore[valid-type]
        started = time.perf_counter()
        answers = await agent.batch(body.texts, request.scope["state"]["request_id"])
        latency = round((time.perf_counter() - started) * 1000, 3)
        return JSONBytes({"predictions": answers, "model": batch_ref(answers), "latency_ms": latency})

    @router.post(
        "/redact",
        response_model=Redaction,
        responses=ERRORS,
        summary="The text with personal data replaced, and where it was; nothing is classified",
    )
    async def redact(body: predict_request):  # type: ignore[valid-type]
        return JSONBytes(await anyio.to_thread.run_sync(agent.redact, body.text))

    return router


def model_router(agent: Agent, metrics: AgentMetrics, api_key: str | None) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/model", response_model=AgentModels, summary="Both backends' model cards and the routing policy"
    )
    async def models():
        return JSONBytes(
            {
                "policy": agent.policy.model_dump(mode="json") if agent.policy else None,
                "policy_source": str(agent.policy_path),
                "policy_matches": agent.policy_matches(),
                "backends": {
                    kind: {**b.describe(), "card": b.state.card} for kind, b in agent.backends.items()
                },
                "warnings": agent.warnings(),
            }
        )

    @router.post(
        "/admin/reload",
        responses=ADMIN_ERRORS,
        dependencies=[Depends(api_key_required(api_key))],
        summary="Reload the routing policy file (and re-read both backends' model cards)",
    )
    async def reload():
        try:
            policy, previous = await anyio.to_thread.run_sync(agent.load_policy)
        except PolicyError as exc:
            metrics.reloads.labels(result="refused").inc()
            still = agent.policy.fitted_at if agent.policy else "none"
            raise HTTPException(
                409, f"reload refused, still using the policy fitted at {still}: {exc}"
            ) from None
        metrics.reloads.labels(result="ok").inc()
        for backend in agent.backends.values():
            backend.state.card = None  # the next probe fetches it again
        await asyncio.gather(*(b.probe() for b in agent.backends.values()))
        return {
            "reloaded": True,
            "fitted_at": policy.fitted_at,
            "previous_fitted_at": previous.fitted_at if previous else None,
            "policy_matches": agent.policy_matches(),
            "warnings": agent.warnings(),
        }

    return router


def lifespan_of(agent: Agent, client: BackendClient, settings: AgentSettings):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            await anyio.to_thread.run_sync(agent.load_policy)
        except PolicyError as exc:
            agent.policy_error = str(exc)  # /ready says why; /admin/reload tries again
        await client.open()
        backends = list(agent.backends.values())
        await asyncio.gather(*(b.probe() for b in backends))
        tasks = [asyncio.create_task(probe_forever(backends, settings.probe_seconds))]
        if agent.reviews is not None:
            tasks.append(asyncio.create_task(agent.reviews.run()))
        yield
        for task in tasks:
            task.cancel()
        await client.close()

    return lifespan


def create_app(settings: AgentSettings) -> FastAPI:
    metrics = AgentMetrics(settings.service)
    client = BackendClient(settings.backend_connections)
    backends = {
        kind: Backend(kind, url, client, metrics, settings.backend_timeout, settings.backend_timeout_per_text)
        for kind, url in (("tfidf", settings.tfidf_url), ("transformer", settings.transformer_url))
    }
    reviews = ReviewWriter(settings.database_url, metrics) if settings.database_url else None
    agent = Agent(Scrubber(names=settings.pii_names), backends, metrics, settings.policy_path, reviews)
    predict_request, batch_request = request_models(settings.max_text_chars, settings.max_batch)
    app = FastAPI(
        title="CallCenterAI agent",
        version=__version__,
        description=(
            "Removes personal data, routes each ticket to TF-IDF alone when it is sure and to both "
            "models otherwise (the policy fitted by the pipeline), and says why."
        ),
        lifespan=lifespan_of(agent, client, settings),
        default_response_class=JSONBytes,
    )
    app.state.agent, app.state.metrics, app.state.settings = agent, metrics, settings
    install_error_handlers(app)
    routers = [
        prediction_router(agent, predict_request, batch_request),
        model_router(agent, metrics, settings.api_key),
        probe_router(settings.service, agent.readiness, metrics.registry),
    ]
    for router in routers:
        app.include_router(router)
    fast_paths = {"/predict": fast_predict_of(agent, predict_request)} if settings.fast_path else None
    install_middleware(app, routers, metrics, settings, JSON_PATHS, fast_paths)
    return app
