"""Service-to-service keys: with CLIENT_KEYS set, the ticket endpoints answer only a caller that
sends one of them (X-Client-Key), on the fast path and through the route; unset, anyone."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from callcenterai.agent.backends import Backend
from callcenterai.agent.http_client import Reply
from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.settings import AgentSettings
from callcenterai.httpkit.metrics import HttpMetrics
from callcenterai.httpkit.middleware import install_middleware
from callcenterai.httpkit.responses import install_error_handlers
from callcenterai.httpkit.schemas import request_models
from callcenterai.httpkit.settings import SettingsError, settings_from_env
from callcenterai.web.agent_client import AgentClient

KEYS = ("k" * 32, "rotated-" + "r" * 32)
PredictRequest, _ = request_models(100, 10)


async def fast(body: bytes, request_id: str) -> bytes | None:
    text = orjson.loads(body)["text"]
    return None if text == "route" else orjson.dumps({"fast": text})


def client_for(keys: tuple[str, ...]) -> TestClient:
    app = FastAPI()

    @app.post("/predict")
    async def predict(body: PredictRequest):  # type: ignore[valid-type]
        return {"route": body.text}

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    install_error_handlers(app)
    settings = SimpleNamespace(max_body_bytes=200, cors_origins=())
    install_middleware(
        app, [], HttpMetrics("test"), settings, {"/predict"}, {"/predict": fast}, client_keys=keys
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("text", ["hello", "route"])  # the fast path, and FastAPI's route
def test_a_caller_without_a_key_is_refused_before_its_body_is_read(text):
    client = client_for(KEYS)
    missing = client.post("/predict", json={"text": text})
    assert missing.status_code == 401 and "X-Client-Key" in missing.json()["error"]
    assert missing.headers["www-authenticate"] == "ApiKey"
    wrong = client.post("/predict", json={"text": text}, headers={"X-Client-Key": "k" * 31 + "x"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong X-Client-Key"
    not_json = client.post("/predict", content=b"x", headers={"content-type": "text/plain"})
    assert not_json.status_code == 401  # the key is checked first: nothing else is said to a stranger


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("text", ["hello", "route"])
def test_any_configured_key_is_let_in(key, text):
    response = client_for(KEYS).post("/predict", json={"text": text}, headers={"X-Client-Key": key})
    assert response.status_code == 200 and text in response.text


def test_without_keys_anyone_may_call_and_the_probes_need_none():
    assert client_for(()).post("/predict", json={"text": "hello"}).status_code == 200
    assert client_for(KEYS).get("/health").status_code == 200


def test_keys_are_read_from_the_environment_and_a_short_one_stops_the_service(monkeypatch):
    monkeypatch.setenv("CLIENT_KEYS", f" {KEYS[0]} ,{KEYS[1]}, ")
    assert settings_from_env(AgentSettings).client_keys == KEYS
    monkeypatch.setenv("CLIENT_KEYS", "short-but-secret")
    with pytest.raises(SettingsError, match="CLIENT_KEYS: every key must be at least 32") as refused:
        settings_from_env(AgentSettings)
    assert "short-but-secret" not in str(refused.value)  # a secret is never echoed


class RecordingClient:
    def __init__(self):
        self.headers: list[dict] = []

    async def post(self, url, body, headers, timeout):
        self.headers.append(headers)
        answer = {"label": "Access", "confidence": 1.0, "probabilities": {"Access": 1.0}, "model": {}}
        return Reply(200, orjson.dumps(answer))


def test_the_agent_sends_its_backend_key_and_the_web_interface_its_agent_key():
    client = RecordingClient()
    backend = Backend("tfidf", "http://tfidf", client, AgentMetrics(), 1.0, 0.0, client_key=KEYS[0])
    backend.state.ready = True
    asyncio.run(backend.predict("printer", "r1"))
    assert client.headers[0]["x-client-key"] == KEYS[0] and client.headers[0]["x-request-id"] == "r1"
    assert AgentClient("http://agent", 1.0, 10, KEYS[1]).client.headers["x-client-key"] == KEYS[1]
    assert "x-client-key" not in AgentClient("http://agent", 1.0, 10).client.headers


def test_the_agent_app_takes_its_keys_from_its_settings():
    from callcenterai.agent.app import create_app

    settings = AgentSettings(client_keys_csv=KEYS[0], database_url="", fast_path=True)
    client = TestClient(create_app(settings), raise_server_exceptions=False)  # no lifespan: no policy
    for path in ("/predict", "/predict/batch", "/redact"):
        body = {"texts": ["printer"]} if path.endswith("batch") else {"text": "printer"}
        assert client.post(path, json=body).status_code == 401, path
    let_in = client.post("/predict", json={"text": "printer"}, headers={"X-Client-Key": KEYS[0]})
    assert let_in.status_code == 503 and "no routing policy" in let_in.json()["error"]  # past the key
