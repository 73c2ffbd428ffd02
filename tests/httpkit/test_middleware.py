"""The shared request middleware in process: fast paths, their refusals, the body limit.

Domain errors (not ready, bad input) raised on the fast path or in a route
get the same status and error shape.

Through Starlette's TestClient (an in-process ASGI client): the middleware's
branches, without a model behind them; the services' own tests cover it over
loopback.
"""

from __future__ import annotations

from types import SimpleNamespace

import orjson
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from callcenterai.errors import BadInput, NotReady
from callcenterai.httpkit.metrics import HttpMetrics
from callcenterai.httpkit.middleware import install_middleware
from callcenterai.httpkit.responses import install_error_handlers
from callcenterai.httpkit.schemas import request_models

PredictRequest, _ = request_models(100, 10)
REFUSALS = {
    "busy": NotReady("not ready: busy"),
    "odd": BadInput("text: odd is not a ticket"),
    "locked": HTTPException(403, "wrong API key"),
}


async def fast_echo(body: bytes, request_id: str) -> bytes | None:
    text = orjson.loads(body).get("text")
    if text.startswith("route"):
        return None
    if text in REFUSALS:
        raise REFUSALS[text]
    return orjson.dumps({"fast": text, "request_id": request_id})


def client_for(metrics: HttpMetrics | None = None) -> TestClient:
    app = FastAPI()

    @app.post("/predict")
    async def predict(body: PredictRequest):  # type: ignore[valid-type]
        refusal = REFUSALS.get(body.text.removeprefix("route "))
        if refusal is not None:
            raise refusal
        return {"route": body.text}

    install_error_handlers(app)
    settings = SimpleNamespace(max_body_bytes=200, cors_origins=())
    metrics = metrics or HttpMetrics("test")
    install_middleware(app, [], metrics, settings, {"/predict"}, {"/predict": fast_echo})
    return TestClient(app, raise_server_exceptions=False)


def test_a_fast_path_answers_from_the_bytes_with_the_request_id():
    response = client_for().post("/predict", json={"text": "hello"}, headers={"x-request-id": "abc"})
    assert response.status_code == 200
    assert response.json() == {"fast": "hello", "request_id": "abc"}
    assert response.headers["x-request-id"] == "abc"


def test_what_a_fast_path_declines_reaches_the_route_with_its_body():
    response = client_for().post("/predict", json={"text": "route me"})
    assert response.status_code == 200
    assert response.json() == {"route": "route me"}


@pytest.mark.parametrize("where", ["", "route "])
@pytest.mark.parametrize(
    "text, status, message",
    [
        ("busy", 503, "not ready: busy"),
        ("odd", 422, "text: odd is not a ticket"),
        ("locked", 403, "wrong API key"),
    ],
)
def test_a_refusal_has_its_status_and_the_shared_error_shape_on_either_path(where, text, status, message):
    response = client_for().post("/predict", json={"text": where + text})
    assert response.status_code == status
    assert response.json() == {"error": message}
    assert "x-request-id" in response.headers


def test_a_body_over_the_limit_never_reaches_the_fast_path():
    response = client_for().post("/predict", json={"text": "x" * 300})
    assert response.status_code == 413
    assert "200" in response.json()["error"]


def test_request_labels_stay_bounded_whatever_the_method_and_path():
    metrics = HttpMetrics("test")
    client = client_for(metrics)
    for number in range(5):
        client.request(f"BREW{number}", "/predict")
        client.get(f"/no/such/path/{number}")
    client.post("/predict", json={"text": "hello"})
    labels = {
        (sample.labels["endpoint"], sample.labels["method"])
        for family in metrics.registry.collect()
        if family.name == "callcenterai_requests"
        for sample in family.samples
    }
    assert labels == {("/predict", "other"), ("other", "GET"), ("/predict", "POST")}
