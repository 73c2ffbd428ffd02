"""The agent's FastAPI app, from the HTTP kit and the agent's own flow.

No ``from __future__ import annotations``: FastAPI must see the request models
built from the settings as real classes.
"""

import asyncio
import contextlib
import time

import orjson
from fastapi import APIRouter, Depends, FastAPI

from callcenterai.agent.backends import Backend, probe_forever
from callcenterai.agent.decisions import batch_ref
from callcenterai.agent.drift_gauges import DriftGauges
from callcenterai.agent.flow import Agent
from callcenterai.agent.http_client import BackendClient
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.policy_holder import PolicyHolder, follow_forever
from callcenterai.agent.policy_source import policy_source
from callcenterai.agent.review_writer import FlagGate, ReviewWriter
from callcenterai.agent.schemas import (
    AgentBatchPrediction,
    AgentModels,
    AgentPrediction,
    Redaction,
    agent_request,
)
from callcenterai.agent.settings import AgentSettings
from callcenterai.agent.shadow import Shadow, ShadowLimits
from callcenterai.agent.spool import Spool
from callcenterai.agent.traffic_writer import TrafficWriter
from callcenterai.httpkit.app import admin_post, build_app, prediction_router, reload_counted
from callcenterai.httpkit.auth import api_key_given
from callcenterai.httpkit.responses import ERRORS, JSONBytes
from callcenterai.httpkit.schemas import request_models
from callcenterai.pii.scrubber import Scrubber
from callcenterai.routing.policy import PolicyError
from callcenterai.tracking import tracking_uri

JSON_PATHS = {"/predict", "/predict/batch", "/redact"}
# At shutdown, at most this long each sending what waits for the challengers and writing the samples.
SAMPLES_STOP_SECONDS = 1.0


async def answer_one(agent: Agent, body, request_id: str) -> dict:
    """/predict for a body of the agent's predict request (text, include_redaction)."""
    started = time.perf_counter()
    answer = await agent.one(body.text, request_id, body.include_redaction)
    answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return answer


def fast_predict_of(agent: Agent, predict_request):
    """/predict from the body bytes, past FastAPI's routing (see httpkit.middleware).

    A body the request model refuses is declined (None), so the route words the 4xx.
    """

    async def fast_predict(body: bytes, request_id: str) -> bytes | None:
        try:
            parsed = predict_request.model_validate_json(body)
        except ValueError:  # pydantic's ValidationError
            return None
        return orjson.dumps(await answer_one(agent, parsed, request_id), option=orjson.OPT_SERIALIZE_NUMPY)

    return fast_predict


async def answer_batch(agent: Agent, texts: list[str], request_id: str, with_redaction: bool = False) -> dict:
    started = time.perf_counter()
    answers = await agent.batch(texts, request_id, with_redaction)
    latency = round((time.perf_counter() - started) * 1000, 3)
    return {"predictions": answers, "model": batch_ref(answers), "latency_ms": latency}


def redaction_router(agent: Agent, predict_request) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/redact",
        response_model=Redaction,
        responses=ERRORS,
        summary="The text with personal data replaced, and where it was; nothing is classified",
    )
    async def redact(body: predict_request):  # type: ignore[valid-type]
        return JSONBytes(await agent.redact(body.text))

    return router


def model_router(policy_holder: PolicyHolder, metrics: AgentMetrics, api_key: str | None) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/model", response_model=AgentModels, summary="Both backends' model cards and the routing policy"
    )
    async def models(detailed: bool = Depends(api_key_given(api_key))):
        described = policy_holder.describe(detailed)
        for kind, backend in policy_holder.backends.items():
            described["backends"][kind]["challenger"] = backend.challenger_status()
        return JSONBytes(described)

    @admin_post(
        router,
        "/admin/reload",
        api_key,
        summary="Reload the routing policy from its source (and re-read both backends' model cards)",
    )
    async def reload():
        holder = policy_holder
        policy, previous = await reload_counted(holder.load, PolicyError, metrics.reloads, holder.in_use)
        return await holder.recheck(policy, previous)

    return router


def lifespan_of(
    agent: Agent, client: BackendClient, settings: AgentSettings, drift: DriftGauges | None = None
):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await client.open()
        backends = list(agent.backends.values())
        # Backends first: a registry policy is chosen for the models they serve.
        await asyncio.gather(*(b.probe() for b in backends))
        await agent.policy_holder.load_at_start()
        tasks = [asyncio.create_task(probe_forever(backends, settings.probe_seconds))]
        if agent.policy_holder.source.follows_models:
            tasks.append(
                asyncio.create_task(follow_forever(agent.policy_holder, settings.policy_poll_seconds))
            )
        if agent.reviews is not None:
            tasks.append(asyncio.create_task(agent.reviews.run()))
        tasks += [asyncio.create_task(w.run()) for w in (agent.shadow, agent.traffic) if w is not None]
        if drift is not None:
            tasks.append(asyncio.create_task(drift.run(settings.drift_refresh_seconds)))
        yield
        # Requests in flight are answered: what they queued for the challengers and the samples
        # goes out within a short bound (the outcomes to the samples' writer first).
        for worker in (agent.shadow, agent.traffic):
            if worker is not None:
                await worker.stop(SAMPLES_STOP_SECONDS)
        if agent.reviews is not None:  # requests in flight are answered: what they flagged is queued
            await agent.reviews.stop()
        for task in tasks:
            task.cancel()
        await client.close()

    return lifespan


def review_writer_of(settings: AgentSettings, metrics: AgentMetrics) -> ReviewWriter:
    return ReviewWriter(
        settings.database_url,
        metrics,
        FlagGate(settings.review_window_seconds, settings.review_max_new),
        settings.database_password,
        spool=Spool(settings.spool_path) if settings.review_spool else None,
        spool_max=settings.review_spool_max,
        drain_seconds=settings.review_drain_seconds,
    )


def samples_of(
    settings: AgentSettings, metrics: AgentMetrics, backends: dict[str, Backend], reviews: ReviewWriter | None
) -> tuple[Shadow, TrafficWriter | None]:
    """The challengers' shadow and the traffic samples' writer; samples and outcomes are kept only
    where flagged tickets are (the review store), else the shadow still counts its tickets."""
    traffic = None
    if reviews is not None:
        share, keep = settings.traffic_sample_share, settings.traffic_keep_rows
        traffic = TrafficWriter(reviews.opened_store, metrics, share, keep)
    limits = ShadowLimits(
        share=settings.shadow_share,
        timeout=settings.shadow_timeout,
        per_text=settings.backend_timeout_per_text,
        max_concurrency=settings.shadow_max_concurrency,
        max_pending=settings.shadow_max_pending,
        rest=settings.shadow_rest_seconds,
        batch=min(ShadowLimits.batch, settings.max_batch),
    )
    return Shadow(backends, metrics, limits, traffic.add_shadowed if traffic else None), traffic


def drift_reader(reviews: ReviewWriter):
    def latest():
        from callcenterai.review.drift_runs import latest_drift_run

        return latest_drift_run(reviews.opened_store())

    return latest


def create_app(settings: AgentSettings) -> FastAPI:
    metrics = AgentMetrics(settings.service)
    client = BackendClient(settings.backend_connections)
    timeouts = settings.backend_timeout, settings.backend_timeout_per_text
    backends = {
        kind: Backend(kind, url, client, metrics, *timeouts, client_key=settings.backend_client_key)
        for kind, url in (("tfidf", settings.tfidf_url), ("transformer", settings.transformer_url))
    }
    reviews = review_writer_of(settings, metrics) if settings.database_url else None
    # Read through the review writer's store, which migrates the database before its first use:
    # a fresh database then has no drift run yet rather than no table to read.
    drift = DriftGauges(metrics.registry, reader=drift_reader(reviews)) if reviews is not None else None
    source = policy_source(settings.policy_source, tracking_uri())
    policy_holder = PolicyHolder(source, backends, metrics)
    scrubber = Scrubber(names=settings.pii_names)
    shadow, traffic = samples_of(settings, metrics, backends, reviews)
    agent = Agent(scrubber, backends, metrics, policy_holder, reviews, settings.scrub_budget, shadow, traffic)
    text_request, batch_request = request_models(settings.max_text_chars, settings.max_batch)
    predict_request = agent_request(text_request, "AgentPredictRequest")
    batch_request = agent_request(batch_request, "AgentBatchRequest")
    fast_paths = {"/predict": fast_predict_of(agent, predict_request)} if settings.fast_path else None
    app = build_app(
        settings,
        metrics,
        [
            prediction_router(
                (predict_request, batch_request),
                (AgentPrediction, AgentBatchPrediction),
                lambda body, request_id: answer_one(agent, body, request_id),
                lambda body, request_id: answer_batch(agent, body.texts, request_id, body.include_redaction),
            ),
            redaction_router(agent, text_request),
            model_router(policy_holder, metrics, settings.api_key),
        ],
        policy_holder.readiness,
        title="CallCenterAI agent",
        description=(
            "Removes personal data, routes each ticket to TF-IDF alone when it is sure and to both "
            "models otherwise (the policy fitted by the pipeline), and says why."
        ),
        lifespan=lifespan_of(agent, client, settings, drift),
        json_paths=JSON_PATHS,
        fast_paths=fast_paths,
        readiness_details=lambda: policy_holder.readiness(detailed=True),
    )
    app.state.agent = agent
    return app
