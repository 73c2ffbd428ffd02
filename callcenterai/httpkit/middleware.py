"""The request middleware every service shares (pure ASGI, no per-request task).

For each request: an id (``X-Request-ID`` kept or made), the in-flight gauge,
a count and a latency by endpoint and status. For POSTs to the JSON endpoints:
a client key where the service has some (``X-Client-Key``: 401 without, 403
wrong), the content type must be JSON, and the body is read here, counted as
it arrives, and refused with 413 as soon as it passes the limit, whether or
not it came with a ``Content-Length``. A service may answer some paths itself from
the bytes (``fast_paths``), without the framework's per-request machinery;
whatever a fast handler declines goes to the FastAPI route with the body
replayed, so validation errors are worded in one place; a domain error (not
ready, bad input) or an HTTPException a fast handler raises is answered in the
shared error shape, with the status ``responses`` gives it.
"""

from __future__ import annotations

import time
import uuid
from typing import Awaitable, Callable

from callcenterai.httpkit.auth import client_key_refusal
from callcenterai.httpkit.metrics import HttpMetrics
from callcenterai.httpkit.responses import ANSWERED, answer_to, error
from callcenterai.httpkit.schemas import CLIENT_KEY_HEADER

# ASGI gives header names in lower case, as bytes.
CLIENT_KEY_FIELD = CLIENT_KEY_HEADER.lower().encode()

FastHandler = Callable[[bytes, str], Awaitable[bytes | None]]
_DISCONNECTED = object()
# h11 accepts any token as a method, and every label value is a series kept for the
# life of the process: any other method is counted as "other", as any unknown path is.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMiddleware:
    def __init__(
        self,
        app,
        metrics: HttpMetrics,
        max_body_bytes: int,
        json_paths: set[str],
        endpoints: set[str],
        fast_paths: dict[str, FastHandler] | None = None,
        client_keys: tuple[str, ...] = (),
    ):
        self.app, self.metrics, self.max_body_bytes = app, metrics, max_body_bytes
        self.json_paths, self.endpoints = json_paths, endpoints
        self.fast_paths = fast_paths or {}
        self.client_keys = tuple(key.encode() for key in client_keys)
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

    def _header_refusal(self, scope):
        headers = dict(scope["headers"])
        refused = client_key_refusal(headers.get(CLIENT_KEY_FIELD), self.client_keys)
        if refused is not None:
            status, message = refused
            return error(status, message, headers={"WWW-Authenticate": "ApiKey"} if status == 401 else None)
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != b"application/json":
            shown = ctype.decode("latin-1") or "none"
            return error(415, f"content type must be application/json (got {shown})")
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return error(400, "content-length header is not a number")
            if int(length) > self.max_body_bytes:
                return error(413, f"body of {int(length)} bytes is over the {self.max_body_bytes} limit")
        return None

    async def _read_body(self, receive):
        """The whole body, None once it passes the limit, or _DISCONNECTED."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return _DISCONNECTED
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

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
            if scope["method"] == "POST" and scope["path"] in self.json_paths:
                await self._json_post(scope, receive, send_with_status)
            else:
                await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.in_flight.dec()
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            counter, histogram = self._observers(endpoint, method, status)
            counter.inc()
            histogram.observe(time.perf_counter() - started)

    async def _json_post(self, scope, receive, send):
        refusal = self._header_refusal(scope)
        if refusal is not None:
            return await refusal(scope, receive, send)
        body = await self._read_body(receive)
        if body is _DISCONNECTED:
            return
        if body is None:
            return await error(413, f"body is over the {self.max_body_bytes} byte limit")(
                scope, receive, send
            )
        handler = self.fast_paths.get(scope["path"])
        try:
            answer = await handler(body, scope["state"]["request_id"]) if handler else None
        except ANSWERED as exc:
            return await answer_to(exc)(scope, receive, send)
        if answer is None:
            return await self.app(scope, replay_receive(body, receive), send)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def replay_receive(body: bytes, receive):
    """A receive that hands the app the body already read, then defers to the real one."""
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def install_middleware(
    app, routers, metrics, settings, json_paths: set[str], fast_paths=None, client_keys: tuple[str, ...] = ()
) -> None:
    """The shared request middleware (and CORS where configured); metrics name each route's path.

    ``client_keys``: the JSON endpoints answer only a caller that sends one of them (none: anyone).
    """
    routes = [route for router in [app.router, *routers] for route in router.routes]
    endpoints = {route.path for route in routes if hasattr(route, "path")}
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        json_paths=set(json_paths),
        endpoints=endpoints,
        fast_paths=fast_paths,
        client_keys=client_keys,
    )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"]
        )
