"""/health, /ready and /metrics, for any service: one with a model or one without.

No ``from __future__ import annotations``: FastAPI reads the route signatures.
"""

from typing import Callable

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from callcenterai.serving.responses import JSONBytes
from callcenterai.serving.schemas import Health, Readiness

# () -> (ready, body): the body is the Readiness fields (a reason when not ready).
ReadinessCheck = Callable[[], tuple[bool, dict]]


def probe_router(service: str, readiness: ReadinessCheck, registry: CollectorRegistry) -> APIRouter:
    # JSON whatever the app's default response class (the web interface's is HTML).
    router = APIRouter(default_response_class=JSONBytes)

    @router.get("/health", response_model=Health, summary="Liveness: the process answers")
    async def health():
        return {"status": "ok", "service": service}

    @router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}}, summary="Ready?")
    async def ready():
        is_ready, body = readiness()
        return JSONBytes({"ready": is_ready, **body}, status_code=200 if is_ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
