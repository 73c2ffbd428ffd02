"""/health, /ready and /metrics, for any service: one with a model or one without.

/ready is public (load balancers ask it): its status code and a short body say
whether the service is ready and, in a few words, why not. What went wrong in
detail (exception text, URIs, paths) is only for a caller with the API key.

No ``from __future__ import annotations``: FastAPI reads the route signatures.
"""

from typing import Callable

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from callcenterai.httpkit.auth import api_key_given
from callcenterai.httpkit.responses import JSONBytes
from callcenterai.httpkit.schemas import Health, Readiness

# () -> (ready, body): the body is the Readiness fields (a reason when not ready).
ReadinessCheck = Callable[[], tuple[bool, dict]]


def probe_router(
    service: str,
    readiness: ReadinessCheck,
    registry: CollectorRegistry,
    readiness_model: type[BaseModel] = Readiness,
    details: ReadinessCheck | None = None,
    api_key: str | None = None,
) -> APIRouter:
    """The probes; ``readiness_model`` documents the /ready body (a service's may add fields).

    ``readiness`` is what anyone sees; ``details``, where a service has any, is what a
    caller sending ``api_key`` in ``X-API-Key`` sees instead.
    """
    # JSON whatever the app's default response class (the web interface's is HTML).
    router = APIRouter(default_response_class=JSONBytes)

    @router.get("/health", response_model=Health, summary="Liveness: the process answers")
    async def health():
        return {"status": "ok", "service": service}

    @router.get(
        "/ready",
        response_model=readiness_model,
        responses={503: {"model": readiness_model}},
        summary="Ready?",
    )
    async def ready(detailed: bool = Depends(api_key_given(api_key))):
        check = details if detailed and details is not None else readiness
        is_ready, body = check()
        return JSONBytes({"ready": is_ready, **body}, status_code=200 if is_ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
