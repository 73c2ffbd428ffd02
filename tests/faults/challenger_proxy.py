"""A fault injector for the shadow path, not a mock of the product: a loopback proxy in front of a
real classifier service that forwards every request unchanged (the champion's answers, ``/ready``
naming the challenger, ``/model``), except the challenger's calls (``/challenger/...``), which meet
the fault named by ``FAULT_MODE``:

- ``hang``: the request is read and never answered (the connection stays open until the caller
  gives up), as a challenger stuck in a long pause or a dead lock looks from outside;
- ``error``: a 500 at once, as a challenger whose every call fails;
- ``pass``: forwarded like the rest (the proxy's own cost, for a fair baseline).

  FAULT_UPSTREAM=http://127.0.0.1:8001 FAULT_MODE=hang \\
    .venv/bin/python -m uvicorn tests.faults.challenger_proxy:app --port 9001

Used by tests/services/test_shadow_faults.py and benchmarks/shadow_bench.py.
"""

from __future__ import annotations

import os

import httpx

MODES = ("pass", "hang", "error")
CHALLENGER_PATHS = "/challenger/"
# Hop-by-hop headers, those httpx has already acted on (the body is passed on decoded, whole), and
# those uvicorn writes itself.
DROPPED_HEADERS = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"content-length",
    b"content-encoding",
    b"date",
    b"server",
}
FAULT_BODY = b'{"detail": "fault injected: the challenger failed"}'


class ChallengerFaultProxy:
    """The ASGI app; reads FAULT_UPSTREAM and FAULT_MODE when uvicorn starts it."""

    def __init__(self) -> None:
        self.upstream, self.mode = "", "pass"
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            if self.mode != "pass" and scope["path"].startswith(CHALLENGER_PATHS):
                await (self._hang(receive) if self.mode == "hang" else self._fail(send))
            else:
                await self._forward(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.upstream = os.environ["FAULT_UPSTREAM"].rstrip("/")
                self.mode = os.environ.get("FAULT_MODE", "pass")
                if self.mode not in MODES:
                    await send({"type": "lifespan.startup.failed", "message": f"FAULT_MODE not in {MODES}"})
                    return
                # No timeout of its own: the caller's timeout is what is being tested.
                self.client = httpx.AsyncClient(timeout=None, limits=httpx.Limits(max_connections=256))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _hang(receive) -> None:
        """Never answer; return when the caller hangs up, so no task outlives its connection."""
        while (await receive())["type"] != "http.disconnect":
            pass

    @staticmethod
    async def _fail(send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(FAULT_BODY)).encode())]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": FAULT_BODY})

    async def _forward(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        url = (
            self.upstream
            + scope["path"]
            + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
        )
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in DROPPED_HEADERS | {b"host"}]
        assert self.client is not None
        response = await self.client.request(scope["method"], url, headers=headers, content=body)
        content = response.content
        passed = [(k, v) for k, v in response.headers.raw if k.lower() not in DROPPED_HEADERS]
        passed.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": passed})
        await send({"type": "http.response.body", "body": content})


app = ChallengerFaultProxy()
