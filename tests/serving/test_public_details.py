"""A classifier service's public /ready and /model say how it is, not what went wrong in detail.

Exception text, URIs and paths are for a caller with the API key (``X-API-Key``).
In process, through Starlette's TestClient, with no model (a folder that is not
there) or with a served model made up of its card alone.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from fastapi.testclient import TestClient

from callcenterai.model_card import ModelCard
from callcenterai.serving.app import create_app, served_card
from callcenterai.serving.holder import Serving
from callcenterai.serving.settings import ClassifierSettings
from tests.helpers import API_KEY

REGISTRY = "http://10.1.2.3:5000"
CHECKPOINT = "/srv/private/checkpoints/minilm"


def ready_once_loaded(client: TestClient, headers: dict | None = None):
    for _ in range(100):
        ready = client.get("/ready", headers=headers)
        if "loading" not in ready.text:
            return ready
        time.sleep(0.05)
    raise AssertionError("the model never finished loading")


def test_public_ready_says_not_ready_without_the_path_the_key_shows_it(tmp_path):
    missing = tmp_path / "no-model-here"
    settings = ClassifierSettings(
        service="tfidf_svc", kind="tfidf", MODEL_URI=str(missing), CALLCENTERAI_API_KEY=API_KEY
    )
    with TestClient(create_app(settings)) as client:
        public = ready_once_loaded(client)
        detailed = client.get("/ready", headers={"X-API-Key": API_KEY})
        wrong = client.get("/ready", headers={"X-API-Key": "x" * 40})
        predict = client.post("/predict", json={"text": "printer broken"})
    assert public.status_code == detailed.status_code == 503
    assert public.json() == {"ready": False, "reason": "no model could be loaded"}
    assert wrong.json() == public.json()
    assert str(missing) in detailed.json()["reason"]
    assert predict.status_code == 503 and str(tmp_path) not in predict.text


def cached_serving() -> Serving:
    card = ModelCard(
        name="callcenterai-transformer-classifier",
        kind="transformer",
        labels=["Access", "Hardware"],
        params={"checkpoint": CHECKPOINT, "max_length": 96},
        training_data_md5="0" * 32,
        training_rows=10,
        trained_at="2026-01-01T00:00:00+00:00",
        checkpoint=CHECKPOINT,
        max_length=96,
        version="3",
        registry_uri=REGISTRY,
    )
    predictor = SimpleNamespace(backend="onnxruntime", kind="transformer")
    model = SimpleNamespace(card=card, predictor=predictor, name=card.name, version="3")
    warning = f"registry unavailable (cannot reach {REGISTRY}: refused); serving the local copy of version 3"
    return Serving(model, "cache", warning=warning, loaded_at=1.0)


def test_the_public_model_card_has_no_registry_address_error_or_local_path():
    serving = cached_serving()
    public, detailed = served_card(serving, detailed=False), served_card(serving, detailed=True)
    assert REGISTRY not in str(public) and CHECKPOINT not in str(public)
    assert public["warning"] == "serving the local copy of version 3: the registry could not be reached"
    assert public["checkpoint"] == public["params"]["checkpoint"] == "minilm"
    assert REGISTRY in detailed["warning"] and detailed["checkpoint"] == CHECKPOINT
    assert public["version"] == detailed["version"] == "3"
