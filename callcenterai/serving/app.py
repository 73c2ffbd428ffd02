"""The classifier service: one FastAPI app factory for tfidf_svc and transformer_svc.

No ``from __future__ import annotations`` here: FastAPI must see the request
models built inside ``create_app`` as real classes, not strings.
"""

import asyncio
import contextlib
import hmac
import logging
import threading
import time
import uuid
from typing import Callable

import anyio
import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from callcenterai import __version__
from callcenterai.serving.holder import ModelHolder, ReloadRefused, Serving
from callcenterai.serving.metrics import ServiceMetrics
from callcenterai.serving.schemas import (
    BatchPrediction,
    ErrorBody,
    Health,
    Prediction,
    Readiness,
    ReloadResult,
    request_models,
)
from callcenterai.serving.settings import ServiceSettings

log = logging.getLogger("callcenterai.service")

ERRORS = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    413: {"model": ErrorBody, "description": "Body too large"},
    415: {"model": ErrorBody, "description": "Body is not JSON"},
    422: {"model": ErrorBody, "description": "Invalid field (empty, too long, wrong type, too many texts)"},
    503: {"model": ErrorBody, "description": "No model loaded yet"},
}
ADMIN_ERRORS = {
    401: {"model": ErrorBody, "description": "API key missing"},
    403: {"model": ErrorBody, "description": "API key wrong, or admin disabled"},
    409: {"model": ErrorBody, "description": "Reload refused; the old model keeps serving"},
}


JSON_BODY_PATHS = {"/predict", "/predict/batch"}


class JSONBytes(Response):
    """orjson rendering: several times faster than the standard library for these bodies."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def error(status: int, message: str, detail: list | None = None, headers: dict | None = None) -> JSONBytes:
    body = {"error": message} if detail is None else {"error": message, "detail": detail}
    return JSONBytes(body, status_code=status, headers=headers)


def describe_validation(errors: list[dict]) -> tuple[str, list[dict]]:
    """One line naming the first problem, and every problem field by field."""
    detail = []
    for item in errors:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        problem = item.get("msg", "invalid").removeprefix("Value error, ")
        if item.get("type") == "json_invalid":
            where, problem = "body", f"not valid JSON ({item.get('ctx', {}).get('error', 'decode error')})"
        detail.append({"field": where, "problem": problem})
    first = detail[0] if detail else {"field": "body", "problem": "invalid"}
    return f"{first['field']}: {first['problem']}", detail


class ServiceMiddleware:
    """Pure ASGI (no per-request task): metrics, in-flight count, body checks, request ids."""

    def __init__(
        self,
        app,
        metrics: ServiceMetrics,
        settings: ServiceSettings,
        endpoints: set[str],
        fast_predict: Callable[[bytes, str], bytes | None] | None = None,
    ):
        self.app, self.metrics, self.settings, self.endpoints = app, metrics, settings, endpoints
        self.fast_predict = fast_predict
        self._children: dict[tuple, tuple] = {}

    def _observers(self, endpoint: str, method: str, status: int):
        key = (endpoint, method, status)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = (
                self.metrics.requests.labels(endpoint=endpoint, method=method, status=str(status)),
                self.metrics.latency.labels(endpoint=endpoint, status=str(status)),
            )
        return found

    def _refusal(self, scope) -> JSONBytes | None:
        if scope["method"] != "POST" or scope["path"] not in JSON_BODY_PATHS:
            return None
        headers = dict(scope["headers"])
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != b"application/json":
            shown = ctype.decode("latin-1") or "none"
            return error(415, f"content type must be application/json (got {shown})")
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return error(400, "content-length header is not a number")
            if int(length) > self.settings.max_body_bytes:
                return error(
                    413, f"body of {int(length)} bytes is over the {self.settings.max_body_bytes} limit"
                )
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        endpoint = scope["path"] if scope["path"] in self.endpoints else "other"
        status = 500
        request_id = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = (request_id or uuid.uuid4().hex.encode())[:64]
        scope.setdefault("state", {})["request_id"] = request_id.decode("latin-1")

        async def send_with_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send_with_status)
            elif self.fast_predict is not None and scope["path"] == "/predict":
                await self._predict(scope, receive, send_with_status)
            else:
                await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.in_flight.dec()
            counter, histogram = self._observers(endpoint, scope["method"], status)
            counter.inc()
            histogram.observe(time.perf_counter() - started)

    async def _predict(self, scope, receive, send):
        """/predict without the framework's per-request machinery, for valid requests only.

        Anything the fast path does not answer (invalid body, no model) goes to the
        FastAPI route with the body replayed, so errors come from one place.
        """
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        answer = self.fast_predict(body, scope["state"]["request_id"])
        if answer is None:
            replayed = False

            async def replay():
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            return await self.app(scope, replay, send)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def create_app(settings: ServiceSettings) -> FastAPI:
    metrics = ServiceMetrics(settings.service)
    holder = ModelHolder(
        settings,
        on_swap=lambda s: metrics.set_model(s.model.name, s.model.version, s.model.predictor.kind, s.source),
    )
    PredictRequest, BatchRequest = request_models(settings.max_text_chars, settings.max_batch)
    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="CALLCENTERAI_API_KEY")

    async def poll_registry() -> None:
        while True:
            await asyncio.sleep(settings.poll_seconds)
            current = holder.current
            version = await anyio.to_thread.run_sync(holder.registry_version)
            if version and current and version != current.model.version:
                log.info("production moved to version %s; reloading", version)
                try:
                    await anyio.to_thread.run_sync(holder.reload)
                    metrics.reloads.labels(result="ok").inc()
                except ReloadRefused as exc:
                    metrics.reloads.labels(result="refused").inc()
                    log.error("background reload refused, still serving %s: %s", current.model.version, exc)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # Load in the background: /health answers at once, /ready says 503 until loaded.
        threading.Thread(target=holder.load_initial, name="model-loader", daemon=True).start()
        poller = asyncio.create_task(poll_registry()) if settings.poll_seconds > 0 else None
        yield
        if poller:
            poller.cancel()

    app = FastAPI(
        title=f"CallCenterAI {settings.service}",
        version=__version__,
        description=(
            f"Classifies IT support tickets with the {settings.kind} model. Raw text is normalised "
            "server side with the function that prepared the training data."
        ),
        lifespan=lifespan,
        default_response_class=JSONBytes,
    )
    app.state.holder, app.state.metrics, app.state.settings = holder, metrics, settings

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        message, detail = describe_validation(exc.errors())
        return error(422, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = str(exc.detail)
        if message == "There was an error parsing the body":  # FastAPI's words for undecodable bytes
            message = "body could not be parsed: it is not UTF-8 encoded JSON"
        return error(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        request_id = request.scope.get("state", {}).get("request_id", "?")
        log.exception("internal error on %s (request %s)", request.url.path, request_id)
        return error(500, f"internal error (request id {request_id}); this is a bug, please report it")

    def serving_now() -> Serving:
        serving = holder.current
        if serving is None:
            raise HTTPException(503, f"not ready: {holder.not_ready_reason}")
        return serving

    def require_api_key(provided: str | None = Depends(api_key_header)) -> None:
        if not settings.api_key:
            raise HTTPException(403, "admin endpoints are disabled: CALLCENTERAI_API_KEY is not set")
        if not provided:
            raise HTTPException(401, "missing X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
        if not hmac.compare_digest(provided.encode(), settings.api_key.encode()):
            raise HTTPException(403, "wrong API key")

    def scored(labels: tuple[str, ...], row, truncated: bool | None = None) -> dict:
        values = row.tolist()
        best = max(range(len(values)), key=values.__getitem__)
        metrics.observe_prediction(labels[best], values[best])
        answer = {
            "label": labels[best],
            "confidence": values[best],
            "probabilities": dict(zip(labels, values)),
        }
        if truncated is not None:  # only models with a length limit say whether they cut the text
            answer["truncated"] = truncated
            if truncated:
                metrics.truncated.inc()
        return answer

    def answer_one(serving: Serving, text: str, request_id: str, started: float) -> dict:
        predictor = serving.model.predictor
        proba, cut = predictor.predict_detailed([text])
        answer = scored(predictor.labels, proba[0], None if cut is None else cut[0])
        answer["model"] = serving.ref
        answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "predict id=%s chars=%d label=%s confidence=%.3f",
                request_id,
                len(text),
                answer["label"],
                answer["confidence"],
            )
        return answer

    def fast_predict(body: bytes, request_id: str) -> bytes | None:
        started = time.perf_counter()
        serving = holder.current
        if serving is None:
            return None
        try:
            text = PredictRequest.model_validate_json(body).text
        except ValueError:  # pydantic's ValidationError: let the route word the 4xx
            return None
        return orjson.dumps(answer_one(serving, text, request_id, started))

    @app.post("/predict", response_model=Prediction, responses=ERRORS, summary="Classify one ticket")
    async def predict(body: PredictRequest, request: Request):  # type: ignore[valid-type]
        started = time.perf_counter()
        return JSONBytes(answer_one(serving_now(), body.text, request.scope["state"]["request_id"], started))

    @app.post(
        "/predict/batch",
        response_model=BatchPrediction,
        responses=ERRORS,
        summary="Classify many tickets in order",
    )
    async def predict_batch(body: BatchRequest, request: Request):  # type: ignore[valid-type]
        started = time.perf_counter()
        serving = serving_now()
        predictor = serving.model.predictor
        # Off the event loop: a 1,000-ticket batch must not stall single requests.
        proba, cut = await anyio.to_thread.run_sync(predictor.predict_detailed, body.texts)
        cut = cut if cut is not None else [None] * len(proba)
        answer = {
            "predictions": [scored(predictor.labels, row, c) for row, c in zip(proba, cut)],
            "model": serving.ref,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        log.info(
            "batch id=%s texts=%d chars=%d ms=%.1f",
            request.scope["state"]["request_id"],
            len(body.texts),
            sum(map(len, body.texts)),
            answer["latency_ms"],
        )
        return JSONBytes(answer)

    @app.get("/health", response_model=Health, summary="Liveness: the process answers")
    async def health():
        return {"status": "ok", "service": settings.service}

    @app.get(
        "/ready", response_model=Readiness, responses={503: {"model": Readiness}}, summary="Model loaded?"
    )
    async def ready():
        serving = holder.current
        if serving is None:
            return JSONBytes({"ready": False, "reason": holder.not_ready_reason}, status_code=503)
        return {"ready": True, "model": serving.ref, "source": serving.source, "warning": serving.warning}

    @app.get("/model", responses={503: {"model": ErrorBody}}, summary="The model card of the served model")
    async def model_card():
        serving = serving_now()
        card = {k: v for k, v in serving.model.card.items() if k not in ("registry_uri", "smoke_tickets")}
        return {
            **card,
            "source": serving.source,
            "warning": serving.warning,
            "loaded_at": serving.loaded_at,
            "backend": serving.model.predictor.backend,
        }

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/admin/reload",
        response_model=ReloadResult,
        responses=ADMIN_ERRORS,
        dependencies=[Depends(require_api_key)],
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

    endpoints = {route.path for route in app.routes if hasattr(route, "path")}
    app.add_middleware(
        ServiceMiddleware,
        metrics=metrics,
        settings=settings,
        endpoints=endpoints,
        fast_predict=fast_predict if settings.fast_path else None,
    )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"]
        )
    return app
