"""The agent's public /ready and /model say how it is, not what went wrong in detail.

The backends' URLs and errors and the policy file's path are for a caller with the
API key (``X-API-Key``). In process, through Starlette's TestClient, with both
backends at an address where nothing listens.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from callcenterai.agent.app import create_app
from callcenterai.agent.settings import AgentSettings
from tests.helpers import API_KEY, policy

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers


def agent_client(folder) -> TestClient:
    policy().write(folder)
    settings = AgentSettings(
        TFIDF_URL=NOWHERE,
        TRANSFORMER_URL=NOWHERE,
        ROUTING_POLICY=str(folder / "policy.json"),
        DATABASE_URL="",
        CALLCENTERAI_API_KEY=API_KEY,
    )
    return TestClient(create_app(settings))


def test_public_ready_and_model_hold_no_url_path_or_error_the_key_shows_them(tmp_path):
    with agent_client(tmp_path) as client:
        ready = client.get("/ready")
        model = client.get("/model")
        ready_detailed = client.get("/ready", headers={"X-API-Key": API_KEY})
        model_detailed = client.get("/model", headers={"X-API-Key": API_KEY})
    assert ready.status_code == ready_detailed.status_code == 503
    assert ready.json()["reason"] == "no classifier available"
    for public in (ready.text, model.text):
        assert NOWHERE.removeprefix("http://") not in public and str(tmp_path) not in public
        assert "unreachable" not in public
    assert model.json()["backends"]["tfidf"] == {
        "ready": False,
        "circuit": "closed",
        "model": None,
        "card": None,
        "challenger": None,
    }
    assert model.json()["warnings"] == ["tfidf_svc unavailable", "transformer_svc unavailable"]
    assert ready_detailed.json()["backends"]["tfidf_svc"]["url"] == NOWHERE
    assert "tfidf_svc: unreachable" in ready_detailed.json()["reason"]
    assert model_detailed.json()["policy_source"] == str(tmp_path / "policy.json")
