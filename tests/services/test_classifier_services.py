"""tfidf_svc and transformer_svc as real processes: the contract, bad input, admin, metrics, logs.

Tests that take ``service`` run against both services (one shared serving module);
the transformer is the quick fine-tune of the pipeline fixture, exported to int8 ONNX.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from callcenterai.registry.promotion import Registry
from tests.helpers import API_KEY, run_script, running_service

CONTRACT = Path(__file__).with_name("contract_schemas.json")


def post(service, path, **kwargs):
    return httpx.post(service["url"] + path, timeout=30, **kwargs)


def production_version(service) -> str:
    """What the service must be serving: the registry's production version now (the reload
    test below moves it, so no test may assume a number)."""
    registry = Registry(service["kind"], uri=service["env"]["MLFLOW_TRACKING_URI"])
    return registry.alias_version("production").version


def test_predict_follows_the_contract(service):
    response = post(service, "/predict", json={"text": "My LAPTOP won't boot!!! ticket #4411"})
    assert response.status_code == 200
    body = response.json()
    length_limited = {"truncated"} if service["kind"] == "transformer" else set()
    assert set(body) == {"label", "confidence", "probabilities", "model", "latency_ms"} | length_limited
    assert len(body["probabilities"]) == 8 and abs(sum(body["probabilities"].values()) - 1) < 1e-9
    assert body["confidence"] == max(body["probabilities"].values())
    assert body["label"] == max(body["probabilities"], key=body["probabilities"].get)
    name = f"callcenterai-{service['kind']}-classifier"
    assert body["model"] == {"name": name, "version": production_version(service), "kind": service["kind"]}
    assert body["latency_ms"] >= 0 and response.headers["x-request-id"]


def test_raw_and_normalised_text_get_the_same_answer(service):
    raw = post(service, "/predict", json={"text": "My LAPTOP won't boot!!! ticket #4411"}).json()
    clean = post(service, "/predict", json={"text": "my laptop won boot ticket"}).json()
    assert raw["probabilities"] == clean["probabilities"]


def test_batch_answers_in_input_order(service):
    texts = ["printer toner empty", "reset my password", "new monitor purchase order", "disk quota full"]
    batch = post(service, "/predict/batch", json={"texts": texts})
    assert batch.status_code == 200
    answers = batch.json()["predictions"]
    singles = [post(service, "/predict", json={"text": t}).json() for t in texts]
    # Dynamic int8 quantises activations with a range taken over the whole batch, so the
    # transformer's batch answers differ from single ones in the third decimal.
    tolerance = 0.02 if service["kind"] == "transformer" else 1e-8
    for answer, single in zip(answers, singles):
        batch_p, single_p = (np.array(list(a["probabilities"].values())) for a in (answer, single))
        assert np.allclose(batch_p, single_p, atol=tolerance, rtol=0)
        top_two = np.sort(single_p)[-2:]
        if top_two[1] - top_two[0] > 2 * tolerance:  # a close call may flip within the tolerance
            assert answer["label"] == single["label"]
    assert batch.json()["model"]["version"] == production_version(service)


BAD_REQUESTS = [
    ("empty text", {"json": {"text": ""}}, 422, "text:"),
    ("blank text", {"json": {"text": "  \n\t "}}, 422, "text: must not be empty or blank"),
    ("text over the limit", {"json": {"text": "x" * 201}}, 422, "text: String should have at most 200"),
    ("wrong type", {"json": {"text": 42}}, 422, "text: Input should be a valid string"),
    ("missing field", {"json": {"txt": "hello"}}, 422, "text: Field required"),
    (
        "broken JSON",
        {"content": b'{"text": "unclosed', "headers": {"content-type": "application/json"}},
        422,
        "body: not valid JSON",
    ),
    (
        "not JSON",
        {"content": b"hello", "headers": {"content-type": "text/plain"}},
        415,
        "content type must be application/json",
    ),
    ("no content type", {"content": b'{"text": "hi"}', "headers": {"content-type": ""}}, 415, "content type"),
    (
        "not UTF-8",
        {"content": b'{"text": "caf\xe9"}', "headers": {"content-type": "application/json"}},
        400,
        "not UTF-8 encoded JSON",
    ),
    ("JSON array", {"json": ["hello"]}, 422, "Input should be"),
    ("nothing left to classify", {"json": {"text": "#4411 !!!"}}, 422, "text: nothing left to classify"),
]


@pytest.mark.parametrize("case, kwargs, status, message", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_single_requests_get_a_4xx_naming_the_problem(service, case, kwargs, status, message):
    response = post(service, "/predict", **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"texts": []}, "texts: List should have at least 1 item"),
        ({"texts": ["a b"] * 6}, "texts: List should have at most 5 items"),
        ({"texts": ["fine", " "]}, "texts: must not be empty or blank"),
        ({"texts": "not a list"}, "texts: Input should be a valid list"),
        ({"texts": ["ok", "y" * 201]}, "texts.1: String should have at most 200"),
    ],
)
def test_bad_batches_get_a_4xx_naming_the_problem(service, payload, message):
    response = post(service, "/predict/batch", json=payload)
    assert response.status_code == 422 and message in response.json()["error"], response.text


def test_admin_reload_needs_the_key(service):
    assert post(service, "/admin/reload").status_code == 401
    wrong = post(service, "/admin/reload", headers={"X-API-Key": "nope"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong API key"


def test_health_ready_model_and_docs(service):
    url = service["url"]
    assert httpx.get(url + "/health").json()["status"] == "ok"
    ready = httpx.get(url + "/ready").json()
    version = production_version(service)
    assert ready["ready"] and ready["source"] == "registry" and ready["model"]["version"] == version
    card = httpx.get(url + "/model").json()
    assert card["version"] == version and card["training_data_md5"] and card["trained_at"]
    assert "test_macro_f1" in card["metrics"] and "registry_uri" not in card
    assert (
        card["backend"]
        == {"tfidf": "compiled TF-IDF, native kernel", "transformer": "onnxruntime"}[card["kind"]]
    )
    schema = httpx.get(url + "/openapi.json").json()
    request = schema["components"]["schemas"]["PredictRequest"]["properties"]["text"]
    assert request["maxLength"] == 200 and request["examples"]


def test_metrics_are_prometheus_text(service):
    post(service, "/predict", json={"text": "printer toner empty"})
    post(service, "/predict", json={"text": ""})
    text = httpx.get(service["url"] + "/metrics").text
    for name in (
        'callcenterai_requests_total{endpoint="/predict",method="POST",status="200"}',
        'callcenterai_requests_total{endpoint="/predict",method="POST",status="422"}',
        "callcenterai_request_latency_seconds_bucket",
        "callcenterai_predictions_total{label=",
        "callcenterai_prediction_confidence_bucket",
        f'callcenterai_model_info{{kind="{service["kind"]}",name="callcenterai-{service["kind"]}-classifier"',
        "callcenterai_requests_in_flight",
    ):
        assert name in text, name


def test_logs_carry_ids_and_lengths_never_ticket_text(service):
    marker = "zebracorn"
    post(service, "/predict", json={"text": f"my {marker} laptop is broken"})
    post(service, "/predict/batch", json={"texts": [f"{marker} one", f"{marker} two"]})
    post(service, "/predict", json={"text": f"{marker}" * 300})  # rejected: too long
    log = service["log"].read_text()
    assert "chars=" in log and marker not in log


def test_cors_is_off_unless_configured(service):
    response = httpx.options(
        service["url"] + "/predict",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_contract_schema_is_the_shared_one(service):
    """The prediction contract that transformer_svc and the agent build on must not drift."""
    components = httpx.get(service["url"] + "/openapi.json").json()["components"]["schemas"]
    contract = {
        name: components[name] for name in ("Prediction", "BatchPrediction", "ScoredTicket", "ModelRef")
    }
    assert contract == json.loads(CONTRACT.read_text())


def test_reload_swaps_versions_without_failing_requests(tfidf_service, registry_env, trained_project):
    folder, _ = trained_project
    # A second run of the same pipeline, registered and promoted as version 2.
    retrain = run_script(
        "-m", "dvc", "repro", "--force", "train_tfidf", "evaluate", cwd=folder, env=registry_env
    )
    assert retrain.returncode == 0, retrain.stderr
    for command in (["register"], ["production", "--force", "--reason", "reload test"]):
        result = run_script("scripts/mlflow_registry.py", *command, cwd=folder, env=registry_env)
        assert result.returncode == 0, result.stderr

    failures, stop = [], threading.Event()

    def hammer():
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                response = client.post(tfidf_service["url"] + "/predict", json={"text": "printer broken"})
                if response.status_code != 200 or response.json()["model"]["version"] not in ("1", "2"):
                    failures.append(response.text)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    reload = post(tfidf_service, "/admin/reload", headers={"X-API-Key": API_KEY})
    stop.set()
    for thread in threads:
        thread.join()
    assert reload.status_code == 200, reload.text
    assert reload.json()["model"]["version"] == "2" and reload.json()["previous"]["version"] == "1"
    assert failures == []
    assert post(tfidf_service, "/predict", json={"text": "printer broken"}).json()["model"]["version"] == "2"

    # Production pointing nowhere: the reload is refused and version 2 keeps serving.
    registry = Registry("tfidf", uri=registry_env["MLFLOW_TRACKING_URI"])
    registry.client.delete_registered_model_alias("callcenterai-tfidf-classifier", "production")
    refused = post(tfidf_service, "/admin/reload", headers={"X-API-Key": API_KEY})
    assert refused.status_code == 409 and "still serving version 2" in refused.json()["error"]
    assert post(tfidf_service, "/predict", json={"text": "printer broken"}).json()["model"]["version"] == "2"
    run_script(
        "scripts/mlflow_registry.py",
        "production",
        "--version",
        "2",
        "--force",
        "--reason",
        "restore",
        env=registry_env,
    )


def test_registry_down_at_start_serves_the_local_copy(service, tmp_path):
    env = {**service["env"], "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    with running_service(f"services.{service['kind']}_svc.app:app", env, tmp_path / "svc.log") as url:
        ready = httpx.get(url + "/ready").json()
        assert ready["ready"] and ready["source"] == "cache"
        # The registry's address and error only with the key.
        assert "registry could not be reached" in ready["warning"] and "127.0.0.1:9" not in ready["warning"]
        detailed = httpx.get(url + "/ready", headers={"X-API-Key": API_KEY}).json()
        assert "registry unavailable" in detailed["warning"]
        assert httpx.post(url + "/predict", json={"text": "printer broken"}).status_code == 200
    assert "serving the local copy" in (tmp_path / "svc.log").read_text()


def test_no_model_at_all_is_not_ready_and_says_why(tmp_path):
    env = {"MODEL_URI": str(tmp_path / "missing"), "MODEL_CACHE_DIR": str(tmp_path / "cache")}
    with running_service("services.tfidf_svc.app:app", env, tmp_path / "svc.log", wait_ready=False) as url:
        for _ in range(50):
            ready = httpx.get(url + "/ready")
            if "loading" not in ready.text:
                break
            time.sleep(0.1)
        # Public: not ready, in words without the path; the log has what went wrong.
        assert ready.status_code == 503 and ready.json()["reason"] == "no model could be loaded"
        assert "no such model folder" in (tmp_path / "svc.log").read_text()
        response = httpx.post(url + "/predict", json={"text": "printer broken"})
        assert response.status_code == 503 and "not ready" in response.json()["error"]
        disabled = httpx.post(url + "/admin/reload", headers={"X-API-Key": "anything"})
        assert disabled.status_code == 403 and "CALLCENTERAI_API_KEY is not set" in disabled.json()["error"]


LONG_TICKET = "xylophonequartz " * 12  # 192 characters, far over the quick model's 32 tokens


def truncated_so_far(service: dict) -> float:
    text = httpx.get(service["url"] + "/metrics").text
    return float(re.search(r"^callcenterai_truncated_texts_total (\S+)$", text, re.M).group(1))


def test_transformer_says_when_it_cut_a_long_ticket(transformer_service):
    card = httpx.get(transformer_service["url"] + "/model").json()
    assert card["kind"] == "transformer" and card["max_length"] == 32
    before = truncated_so_far(transformer_service)  # the service is shared: other tests send to it
    long = post(transformer_service, "/predict", json={"text": LONG_TICKET}).json()
    short = post(transformer_service, "/predict", json={"text": "printer toner empty"}).json()
    assert long["truncated"] is True and short["truncated"] is False
    batch = post(transformer_service, "/predict/batch", json={"texts": ["printer toner empty", LONG_TICKET]})
    assert [p["truncated"] for p in batch.json()["predictions"]] == [False, True]
    assert truncated_so_far(transformer_service) == before + 2


def test_tfidf_answers_carry_no_truncation_flag(tfidf_service):
    assert "truncated" not in post(tfidf_service, "/predict", json={"text": LONG_TICKET}).json()


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(service):
    """No Content-Length: the service counts as it reads and answers 413 before reading it all."""
    sent = []

    def chunks():
        for _ in range(64):  # 64 x 64 KiB = 4 MiB against MAX_BODY_BYTES=1000000
            sent.append(1)
            yield b" " * 65536

    response = httpx.post(
        service["url"] + "/predict",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413 and "over the 1000000 byte limit" in response.json()["error"]


def test_health_answers_while_a_burst_of_long_tickets_is_scored(transformer_service):
    """Scoring runs off the event loop: /health is answered while most of the burst still waits."""
    import asyncio

    url = transformer_service["url"]

    async def burst():
        finished: list[str] = []
        first_answered = asyncio.Event()
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=100)) as client:

            async def one(i: int):
                await client.post(url + "/predict", json={"text": f"{LONG_TICKET[:180]} {i}"})
                finished.append("predict")
                first_answered.set()

            async def health():
                await first_answered.wait()  # the whole burst has reached the service by now
                assert (await client.get(url + "/health")).status_code == 200
                finished.append("health")

            await asyncio.gather(*(one(i) for i in range(64)), health())
        return finished

    finished = asyncio.run(burst())
    assert finished.index("health") < 32, finished.index("health")
