"""The shared request middleware in process: fast paths, their refusals, the body limit.

Through Starlette's TestClient (an in-process ASGI client): the middleware's
branches, without a model behind them; the services' own tests cover it over
loopback.
"""

from __future__ import annotations

from types import SimpleNamespace

import orjson
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from callcenterai.serving.metrics import HttpMetrics
from callcenterai.serving.middleware import install_middleware
from callcenterai.serving.responses import install_error_handlers
from callcenterai.serving.schemas import request_models

PredictRequest, _ = request_models(100, 10)


async def fast_echo(body: bytes, request_id: str) -> bytes | None:
    text = orjson.loads(body).get("text")
    if text == "decline":
        return None
    if text == "busy":
        raise HTTPException(503, "not ready: busy")
    return orjson.dumps({"fast": text, "request_id": request_id})


def client_for() -> TestClient:
    app = FastAPI()

    @app.post("/predict")
    async def predict(body: PredictRequest):  # type: ignore[valid-type]
        return {"route": body.text}

    install_error_handlers(app)
    settings = SimpleNamespace(max_body_bytes=200, cors_origins=())
    install_middleware(app, [], HttpMetrics("test"), settings, {"/predict"}, {"/predict": fast_echo})
    return TestClient(app, raise_server_exceptions=False)


def test_a_fast_path_answers_from_the_bytes_with_the_request_id():
    response = client_for().post("/predict", json={"text": "hello"}, headers={"x-request-id": "abc"})
    assert response.status_code == 200
    assert response.json() == {"fast": "hello", "request_id": "abc"}
    assert response.headers["x-request-id"] == "abc"


def test_what_a_fast_path_declines_reaches_the_route_with_its_body():
    response = client_for().post("/predict", json={"text": "decline"})
    assert response.status_code == 200
    assert response.json() == {"route": "decline"}


def test_a_refusal_raised_on_the_fast_path_has_the_shared_error_shape():
    response = client_for().post("/predict", json={"text": "busy"})
    assert response.status_code == 503
    assert response.json() == {"error": "not ready: busy"}
    assert "x-request-id" in response.headers


def test_a_body_over_the_limit_never_reaches_the_fast_path():
    response = client_for().post("/predict", json={"text": "x" * 300})
    assert response.status_code == 413
    assert "200" in response.json()["error"]
