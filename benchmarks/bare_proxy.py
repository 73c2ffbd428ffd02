"""The baselines for the agent's single-ticket bar: a bare FastAPI proxy to tfidf_svc.

Same request model, response class and uvicorn settings as the agent; one shared
pooled client; no scrubbing, no routing, no metrics. `TFIDF_URL` names the backend;
`PROXY_CLIENT` the client: `httpx` (the issue's baseline) or `aiohttp` (the agent's own
client, so the ratio against it is the cost of the agent's work alone).
Served as `uvicorn benchmarks.bare_proxy:app`.
"""

import contextlib
import os

import httpx
import orjson
from fastapi import FastAPI

from callcenterai.agent.http_client import BackendClient
from callcenterai.httpkit.responses import JSONBytes
from callcenterai.httpkit.schemas import request_models

PredictRequest, _ = request_models(20_000, 1_000)
TFIDF_URL = os.environ.get("TFIDF_URL", "http://127.0.0.1:8001")
CLIENT = os.environ.get("PROXY_CLIENT", "httpx")
HEADERS = {"content-type": "application/json"}
if CLIENT not in ("httpx", "aiohttp"):
    raise SystemExit(f"PROXY_CLIENT must be httpx or aiohttp, not {CLIENT!r}")


class HttpxForwarder:
    def __init__(self):
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self.client = httpx.AsyncClient(limits=limits, timeout=5)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(self, body: bytes) -> tuple[int, bytes]:
        response = await self.client.post(TFIDF_URL + "/predict", content=body, headers=HEADERS)
        return response.status_code, response.content


class AiohttpForwarder:
    def __init__(self):
        self.client = BackendClient(64)

    async def open(self) -> None:
        await self.client.open()

    async def close(self) -> None:
        await self.client.close()

    async def forward(self, body: bytes) -> tuple[int, bytes]:
        reply = await self.client.post(TFIDF_URL + "/predict", body, HEADERS, 5)
        return reply.status, reply.content


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await forwarder.open()
    yield
    await forwarder.close()


# Only the client named is built, so the proxy under test holds one pool, like the agent.
forwarder = HttpxForwarder() if CLIENT == "httpx" else AiohttpForwarder()
app = FastAPI(default_response_class=JSONBytes, lifespan=lifespan)


@app.post("/predict")
async def predict(body: PredictRequest):  # type: ignore[valid-type]
    status, content = await forwarder.forward(orjson.dumps({"text": body.text}))
    return JSONBytes(orjson.loads(content), status_code=status)
