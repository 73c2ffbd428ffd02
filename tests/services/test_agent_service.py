"""The agent over loopback, in front of the real classifier services from the pipeline fixture."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from callcenterai.routing.policy import fingerprint_of
from callcenterai.text import NOTHING_TO_CLASSIFY
from tests.helpers import API_KEY

PII_TICKET = "Hi, my laptop won't boot. Mail jane.doe@corp.example.com or call +44 20 7946 0958"


def post(url, path, payload, **kwargs):
    return httpx.post(url + path, json=payload, timeout=30, **kwargs)


def test_predict_answers_the_contract_plus_the_route(agent_service):
    body = post(agent_service["url"], "/predict", {"text": PII_TICKET}).json()
    labels = httpx.get(agent_service["url"] + "/model").json()["policy"]["labels"]
    assert sorted(body["probabilities"]) == sorted(labels)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["confidence"] == pytest.approx(max(body["probabilities"].values()))
    assert body["label"] == max(body["probabilities"], key=body["probabilities"].get)
    route = body["route"]
    assert route["model"] in {"tfidf", "transformer", "ensemble"}
    assert (route["model"] == "ensemble") == (route["reasons"] != ["confident"])
    assert (route["tfidf_confidence"] < route["tfidf_threshold"]) == ("low_confidence" in route["reasons"])
    assert (
        str(route["tfidf_threshold"])[:5] in route["explanation"].replace("0.", "0.", 1)
        or route["explanation"]
    )
    assert body["redacted"] == {"EMAIL": 1, "PHONE": 1}
    assert body["degraded"] is False and isinstance(body["needs_review"], bool)


def test_a_batch_comes_back_in_order_and_matches_single_answers(agent_service):
    texts = ["please reset my password", "the printer is broken", PII_TICKET]
    batch = post(agent_service["url"], "/predict/batch", {"texts": texts}).json()
    singles = [post(agent_service["url"], "/predict", {"text": t}).json() for t in texts]
    assert [p["label"] for p in batch["predictions"]] == [s["label"] for s in singles]
    assert [p["route"]["model"] for p in batch["predictions"]] == [s["route"]["model"] for s in singles]
    for p, s in zip(batch["predictions"], singles):
        assert p["confidence"] == pytest.approx(s["confidence"], abs=1e-6)


def test_redact_shows_what_leaves_the_agent_and_classifies_nothing(agent_service):
    body = post(agent_service["url"], "/redact", {"text": PII_TICKET}).json()
    assert body["text"] == "Hi, my laptop won't boot. Mail <EMAIL> or call <PHONE>"
    assert body["model_text"] == "Hi, my laptop won't boot. Mail   or call  "
    assert [(e["type"], PII_TICKET[e["start"] : e["end"]]) for e in body["entities"]] == [
        ("EMAIL", "jane.doe@corp.example.com"),
        ("PHONE", "+44 20 7946 0958"),
    ]
    assert "label" not in body


def test_predict_sends_the_redaction_too_when_asked(agent_service):
    url = agent_service["url"]
    asked = post(url, "/predict", {"text": PII_TICKET, "include_redaction": True}).json()
    assert asked["redaction"] == post(url, "/redact", {"text": PII_TICKET}).json()
    assert asked["redaction"]["counts"] == asked["redacted"]
    assert "redaction" not in post(url, "/predict", {"text": PII_TICKET}).json()  # the contract as before
    refused = post(url, "/predict", {"text": PII_TICKET, "include_redaction": "yes"})
    assert refused.status_code == 422 and "include_redaction" in refused.text
    schema = httpx.get(url + "/openapi.json").json()["components"]["schemas"]
    assert "include_redaction" in schema["AgentPredictRequest"]["properties"]
    assert "redaction" in schema["AgentPrediction"]["properties"]


def test_a_batch_sends_each_redaction_too_when_asked(agent_service):
    url = agent_service["url"]
    texts = [PII_TICKET, "my screen is broken since monday"]
    asked = post(url, "/predict/batch", {"texts": texts, "include_redaction": True}).json()["predictions"]
    assert [answer["redaction"] for answer in asked] == [
        post(url, "/redact", {"text": t}).json() for t in texts
    ]
    plain = post(url, "/predict/batch", {"texts": texts}).json()["predictions"]
    assert all("redaction" not in answer for answer in plain)  # the contract as before
    schema = httpx.get(url + "/openapi.json").json()["components"]["schemas"]
    assert "include_redaction" in schema["AgentBatchRequest"]["properties"]


def test_no_raw_personal_data_in_the_agent_log(agent_service):
    post(agent_service["url"], "/predict", {"text": PII_TICKET})
    log = agent_service["log"].read_text()
    assert "jane.doe" not in log and "7946" not in log


def test_ready_and_model_name_both_backends_and_the_policy(agent_service):
    ready = httpx.get(agent_service["url"] + "/ready").json()
    assert ready["ready"] and set(ready["backends"]) == {"tfidf_svc", "transformer_svc"}
    models = httpx.get(agent_service["url"] + "/model").json()
    # Other tests may have swapped another version into a shared service: compare with what it serves.
    served = {k: fingerprint_of(b["card"]["file_sha256"]) for k, b in models["backends"].items()}
    fitted = {k: m["fingerprint"] for k, m in models["policy"]["fitted_for"].items()}
    assert models["policy_matches"] == {k: served[k] == fitted[k] for k in served}
    assert ("warning" in ready) == (not all(models["policy_matches"].values()))
    assert 0.0 <= models["policy"]["tfidf_threshold"] <= 1.0 + 1e-6
    assert models["backends"]["tfidf"]["card"]["kind"] == "tfidf"
    assert models["backends"]["transformer"]["card"]["kind"] == "transformer"


@pytest.mark.parametrize(
    "payload, status, words",
    [
        ({"text": ""}, 422, "text"),
        ({"text": "   "}, 422, "blank"),
        ({"text": "x" * 201}, 422, "200"),
        ({"texts": ["a b"] * 6}, 422, "5"),
        ({"txt": "hello"}, 422, "text"),
        ({"text": 5}, 422, "text"),
    ],
)
def test_bad_input_is_a_4xx_that_names_the_problem(agent_service, payload, status, words):
    path = "/predict/batch" if "texts" in payload else "/predict"
    response = post(agent_service["url"], path, payload)
    assert response.status_code == status and words in response.json()["error"]


@pytest.mark.parametrize(
    "text",
    ["jane.doe@example.com", "+44 20 7946 0958", "4411 2024", "!!!", "jane.doe@example.com #42 ?"],
)
def test_a_ticket_with_nothing_left_to_classify_is_a_422_naming_why(agent_service, text):
    """Not a 503 blaming healthy backends, and not a label guessed from nothing."""
    one = post(agent_service["url"], "/predict", {"text": text})
    assert one.status_code == 422 and one.json()["error"] == f"text: {NOTHING_TO_CLASSIFY}"
    batch = post(agent_service["url"], "/predict/batch", {"texts": ["printer is broken", text]})
    assert batch.status_code == 422 and batch.json()["error"] == f"texts.1: {NOTHING_TO_CLASSIFY}"
    assert httpx.get(agent_service["url"] + "/ready").status_code == 200


def test_broken_json_and_wrong_content_type_are_refused(agent_service):
    url = agent_service["url"] + "/predict"
    broken = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    assert httpx.post(url, content=b"text=hi", headers={"content-type": "text/plain"}).status_code == 415


def test_reload_needs_the_key_and_keeps_the_policy_when_the_file_is_broken(agent_service):
    url, path = agent_service["url"] + "/admin/reload", agent_service["policy"]
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"X-API-Key": "wrong"}).status_code == 403
    good = path.read_text()
    before = httpx.get(agent_service["url"] + "/model").json()["policy"]["fitted_at"]
    try:
        path.write_text(json.dumps({"format": 1}))
        refused = httpx.post(url, headers={"X-API-Key": API_KEY})
        assert refused.status_code == 409 and "still using the policy fitted at" in refused.json()["error"]
        assert post(agent_service["url"], "/predict", {"text": "printer broken"}).status_code == 200
    finally:
        path.write_text(good)
    ok = httpx.post(url, headers={"X-API-Key": API_KEY})
    assert ok.status_code == 200 and ok.json()["previous_fitted_at"] == before


def test_metrics_count_routes_review_flags_and_personal_data(agent_service):
    post(agent_service["url"], "/predict", {"text": PII_TICKET})
    text = httpx.get(agent_service["url"] + "/metrics").text
    assert 'callcenterai_agent_pii_entities_total{type="EMAIL"}' in text
    assert "callcenterai_agent_routes_total{" in text
    assert 'callcenterai_agent_circuit_open{backend="transformer_svc"} 0.0' in text
    assert "callcenterai_agent_backend_latency_seconds_bucket" in text


def test_a_policy_fitted_for_other_models_is_served_with_a_warning(agent_service):
    url, path = agent_service["url"], agent_service["policy"]
    before = httpx.get(url + "/model").json()["policy_matches"]
    good = path.read_text()
    policy = json.loads(good)
    policy["fitted_for"]["transformer"]["fingerprint"] = "0" * 64
    try:
        path.write_text(json.dumps(policy))
        reloaded = httpx.post(url + "/admin/reload", headers={"X-API-Key": API_KEY}).json()
        assert reloaded["policy_matches"] == {"tfidf": before["tfidf"], "transformer": False}
        ready = httpx.get(url + "/ready")
        assert ready.status_code == 200 and "fitted for another transformer model" in ready.json()["warning"]
        assert (
            'callcenterai_agent_policy_mismatch{backend="transformer_svc"} 1.0'
            in httpx.get(url + "/metrics").text
        )
    finally:
        path.write_text(good)
        httpx.post(url + "/admin/reload", headers={"X-API-Key": API_KEY})
    assert httpx.get(url + "/model").json()["policy_matches"] == before


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(agent_service):
    body = b'{"text": "' + b"a" * 1_100_000 + b'"}'
    response = httpx.post(
        agent_service["url"] + "/predict", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "limit" in response.json()["error"]


def test_flagged_tickets_reach_the_review_store_redacted(agent_service):
    from sqlalchemy.exc import OperationalError

    from callcenterai.review.store import ReviewStore

    texts = [PII_TICKET, "hello", "printer"]
    answers = post(agent_service["url"], "/predict/batch", {"texts": texts}).json()["predictions"]
    flagged = [a for a in answers if a["needs_review"]]
    assert flagged, "the fixture's small models flag some tickets"
    store = ReviewStore(f"sqlite:///{agent_service['database']}")

    def stored_now():
        try:
            return store.pending(limit=1000)
        except OperationalError:  # the agent has not made the schema yet
            return []

    deadline = time.monotonic() + 30
    while len(stored_now()) < len(flagged) and time.monotonic() < deadline:
        time.sleep(0.2)
    stored = stored_now()
    assert len(stored) >= len(flagged)
    assert all("jane.doe" not in t.text and "7946" not in t.text for t in stored)
    if answers[0]["needs_review"]:
        assert any(t.text == "Hi, my laptop won't boot. Mail <EMAIL> or call <PHONE>" for t in stored)
    raw = agent_service["database"].read_bytes()
    assert b"jane.doe" not in raw and b"7946 0958" not in raw
    newest = stored[0]
    assert set(newest.model_probabilities) <= {"tfidf", "transformer"} and newest.route_reasons
