"""The classifier service's challenger, in process, against a real sqlite MLflow registry.

Four versions of the TF-IDF model: 1 (the champion), 2 (a weaker model with the same labels),
3 (trained without two labels: a label set the challenger check must refuse) and 4 (version 1's
files registered under a digest they do not have: a version that cannot be loaded). Each test
has its own copy of the registry database; the versions' files are shared and only read.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from callcenterai.data import LABEL
from callcenterai.registry.artifacts import DIGEST_TAG
from callcenterai.registry.loading import load_model
from callcenterai.registry.promotion import Registry
from callcenterai.serving.app import create_app
from callcenterai.serving.challenger import ChallengerHolder, label_difference
from callcenterai.serving.holder import Serving, poll_registry
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.settings import ClassifierSettings
from tests.helpers import API_KEY, GOOD, WORSE, sqlite_uri, train_and_evaluate

NAME = "callcenterai-tfidf-classifier"
LEFT_OUT = ("Purchase", "Storage")  # the labels version 3 never saw
TEXTS = ["my laptop screen is broken", "please reset my password", "order a new monitor for the office"]
CLIENT_KEY = "a-client-key-for-the-tests-0123456789"


@pytest.fixture(scope="module")
def challenger_store_template(tmp_path_factory, sample_frame):
    """The registry of the module docstring, built once; production on version 1, no challenger."""
    from callcenterai.config import PrepareParams
    from callcenterai.stages.prepare import run_prepare

    folder = tmp_path_factory.mktemp("challenger-store")
    raw = folder / "raw.csv"
    sample_frame.to_csv(raw, index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", sqlite_uri(folder))
        patch.setattr("callcenterai.registry.promotion.PROJECT_ROOT", folder)
        processed, fewer = folder / "processed", folder / "processed-fewer-labels"
        run_prepare(raw, processed, PrepareParams())
        fewer.mkdir()
        for split in ("train.csv", "test.csv"):
            frame = pd.read_csv(processed / split, dtype=str, keep_default_na=False)
            frame[~frame[LABEL].isin(LEFT_OUT)].to_csv(fewer / split, index=False)
        trained = [
            train_and_evaluate(folder, processed, GOOD, "good"),
            train_and_evaluate(folder, processed, WORSE, "worse"),
            train_and_evaluate(folder, fewer, GOOD, "fewer"),
        ]
        registry = Registry("tfidf")
        for model in trained:
            registry.register(model["card"].mlflow_run_id)
        registry.promote("1")
        first = registry.version("1")
        registry.client.create_model_version(
            NAME, first.source, run_id=first.run_id, tags={**first.tags, DIGEST_TAG: "0" * 64}
        )
    return {"folder": folder, "models": {str(i + 1): m["model_dir"] for i, m in enumerate(trained)}}


@pytest.fixture()
def registry(challenger_store_template, tmp_path, monkeypatch) -> Registry:
    """A private copy of the template's registry database."""
    shutil.copy(challenger_store_template["folder"] / "mlflow.db", tmp_path / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri(tmp_path))
    return Registry("tfidf")


def settings(tmp_path, **extra) -> ClassifierSettings:
    values = {"service": "tfidf_svc", "kind": "tfidf", "cache_dir_override": tmp_path / "cache", **extra}
    return ClassifierSettings(api_key=API_KEY, **values)


def started(tmp_path, **extra) -> tuple[TestClient, object]:
    """The app with its champion loaded and its challenger checked (what the lifespan's threads do)."""
    app = create_app(settings(tmp_path, **extra))
    app.state.holder.load_initial()
    app.state.challenger.refresh()
    return TestClient(app), app


def sample(app, name: str, **labels) -> float | None:
    return app.state.metrics.registry.get_sample_value(name, {"name": NAME, **labels})


def failures(app, cause: str) -> float | None:
    return sample(app, "callcenterai_challenger_load_failures_total", cause=cause)


def assert_champion_unaffected(client: TestClient) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["challenger"] is None
    answer = client.post("/predict", json={"text": TEXTS[0]})
    assert answer.status_code == 200 and answer.json()["model"]["version"] == "1"


def test_the_default_challenger_is_the_alias_beside_the_champions(tmp_path):
    assert settings(tmp_path).challenger_uri == f"models:/{NAME}@challenger"
    staging = settings(tmp_path, model_uri_override=f"models:/{NAME}@staging")
    assert staging.challenger_uri == f"models:/{NAME}@challenger"
    assert settings(tmp_path, challenger_uri_override="none").challenger_uri is None
    assert settings(tmp_path, model_uri_override="models/tfidf").challenger_uri is None
    assert settings(tmp_path, model_uri_override=f"models:/{NAME}/3").challenger_uri is None
    given = settings(tmp_path, challenger_uri_override=f"models:/{NAME}/2")
    assert given.challenger_uri == f"models:/{NAME}/2"
    assert given.challenger_cache_dir == tmp_path / "cache-challenger"


def test_a_label_difference_names_the_missing_and_the_extra_labels():
    said = label_difference(["Access", "Hardware", "Storage"], ["Access", "Hardware", "Purchase"])
    assert said == "its labels differ from the champion's: missing Storage; extra Purchase"
    assert label_difference(["Access", "Hardware"], ["Hardware", "Access"]) is None


def test_the_challenger_serves_beside_the_champion_with_its_own_models_answers(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    client, app = started(tmp_path)
    assert client.get("/ready").json()["challenger"] == {"name": NAME, "version": "2"}
    assert client.get("/model").json()["challenger"] == {"status": "serving", "version": "2", "reason": None}
    own = load_model(f"models:/{NAME}/2").predictor
    expected = own.predict_proba(TEXTS)
    for text, row in zip(TEXTS, expected):
        answer = client.post("/challenger/predict", json={"text": text}).json()
        assert answer["model"] == {"name": NAME, "version": "2", "kind": "tfidf"}
        assert answer["label"] == own.labels[int(np.argmax(row))]
        assert [answer["probabilities"][label] for label in own.labels] == pytest.approx(row.tolist())
    batch = client.post("/challenger/predict/batch", json={"texts": TEXTS}).json()
    assert batch["model"]["version"] == "2"
    got = [[p["probabilities"][label] for label in own.labels] for p in batch["predictions"]]
    assert np.allclose(got, expected)
    champion = client.post("/predict/batch", json={"texts": TEXTS}).json()["predictions"]
    assert [p["probabilities"] for p in champion] != [p["probabilities"] for p in batch["predictions"]]
    assert sample(app, "callcenterai_challenger_loaded") == 1
    assert sample(app, "callcenterai_challenger_version") == 2


def test_challenger_predictions_stay_out_of_the_champions_prediction_metrics(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    client, app = started(tmp_path)
    client.post("/challenger/predict/batch", json={"texts": TEXTS})
    counted = app.state.metrics.registry.get_sample_value("callcenterai_prediction_confidence_count")
    assert not counted
    client.post("/predict/batch", json={"texts": TEXTS})
    assert app.state.metrics.registry.get_sample_value("callcenterai_prediction_confidence_count") == 3


def test_no_challenger_alias_is_the_normal_none_state_and_its_routes_say_404(registry, tmp_path):
    client, app = started(tmp_path)
    assert client.get("/model").json()["challenger"] == {
        "status": "none",
        "version": None,
        "reason": f"no version of {NAME} has the alias 'challenger'",
    }
    for path, body in (
        ("/challenger/predict", {"text": TEXTS[0]}),
        ("/challenger/predict/batch", {"texts": TEXTS}),
    ):
        refused = client.post(path, json=body)
        assert refused.status_code == 404 and "no challenger is serving (status none" in refused.text
    assert_champion_unaffected(client)
    assert (failures(app, "labels_differ"), failures(app, "load_failed")) == (0, 0)
    assert (
        sample(app, "callcenterai_challenger_loaded"),
        sample(app, "callcenterai_challenger_version"),
    ) == (0, 0)


def test_challenger_uri_none_turns_it_off(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    client, _ = started(tmp_path, challenger_uri_override="none")
    assert client.get("/model").json()["challenger"]["reason"] == "CHALLENGER_URI is none"
    assert client.post("/challenger/predict", json={"text": TEXTS[0]}).status_code == 404


def test_a_removed_alias_unloads_the_challenger(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    client, app = started(tmp_path)
    assert app.state.challenger.current is not None
    registry.client.delete_registered_model_alias(NAME, "challenger")
    assert app.state.challenger.refresh().status == "none"
    assert client.post("/challenger/predict", json={"text": TEXTS[0]}).status_code == 404
    assert_champion_unaffected(client)
    assert (
        sample(app, "callcenterai_challenger_loaded"),
        sample(app, "callcenterai_challenger_version"),
    ) == (0, 0)
    assert failures(app, "load_failed") == 0


def test_a_challenger_with_another_label_set_is_refused_with_the_labels_named(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "3")
    client, app = started(tmp_path)
    card = client.get("/model").json()["challenger"]
    assert card["status"] == "refused" and card["version"] == "3"
    assert "missing Purchase, Storage" in card["reason"]
    refused = client.post("/challenger/predict", json={"text": TEXTS[0]})
    assert refused.status_code == 404 and "status refused" in refused.text
    assert_champion_unaffected(client)
    app.state.challenger.refresh()  # the same version against the same champion: not tried again
    assert failures(app, "labels_differ") == 1 and failures(app, "load_failed") == 0


def test_a_challenger_that_fails_to_load_leaves_the_champion_serving(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "4")
    client, app = started(tmp_path)
    assert_champion_unaffected(client)
    detailed = client.get("/model", headers={"X-API-Key": API_KEY}).json()["challenger"]
    assert detailed["status"] == "failed" and detailed["version"] == "4"
    assert "differ from what was registered" in detailed["reason"]
    public = client.get("/model").json()["challenger"]
    assert public == {"status": "failed", "version": "4", "reason": "version 4 could not be loaded"}
    assert failures(app, "load_failed") == 1 and failures(app, "labels_differ") == 0
    assert sample(app, "callcenterai_challenger_loaded") == 0


def test_a_new_challenger_version_is_picked_up_on_the_registry_poll(registry, tmp_path):
    registry.client.set_registered_model_alias(NAME, "challenger", "4")
    client, app = started(tmp_path)
    registry.client.set_registered_model_alias(NAME, "challenger", "2")

    reloads: list[str] = []

    async def poll_until_serving():
        check_challenger = lambda: app.state.challenger.refresh_soon(unless_running=True)  # noqa: E731
        poller = asyncio.create_task(poll_registry(app.state.holder, 0.05, reloads.append, check_challenger))
        while app.state.challenger.current is None:
            await asyncio.sleep(0.05)
        poller.cancel()

    asyncio.run(asyncio.wait_for(poll_until_serving(), 60))
    assert client.get("/ready").json()["challenger"] == {"name": NAME, "version": "2"}
    assert reloads == [] and app.state.holder.current.model.version == "1"  # production did not move


def test_the_challengers_labels_are_checked_again_when_the_champion_changes(
    registry, challenger_store_template, tmp_path
):
    """A champion with fewer labels refuses a full challenger; back on a full champion, it serves."""
    models = challenger_store_template["models"]
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    champion = SimpleNamespace(current=Serving(load_model(models["3"]), "local"))
    metrics = ClassifierMetrics("tfidf_svc")
    challenger = ChallengerHolder(settings(tmp_path), champion, metrics)
    refused = challenger.refresh()
    assert refused.status == "refused" and "extra Purchase, Storage" in refused.reason
    champion.current = Serving(load_model(models["1"]), "local")
    assert challenger.refresh().status == "serving"


def test_the_challenger_routes_ask_for_a_client_key_as_predict_does(challenger_store_template, tmp_path):
    models = challenger_store_template["models"]
    client, _ = started(
        tmp_path,
        model_uri_override=str(models["1"]),
        challenger_uri_override=str(models["2"]),
        client_keys_csv=CLIENT_KEY,
    )
    for path, body in (
        ("/challenger/predict", {"text": TEXTS[0]}),
        ("/challenger/predict/batch", {"texts": TEXTS}),
    ):
        assert client.post(path, json=body).status_code == 401
        assert client.post(path, json=body, headers={"X-Client-Key": "wrong"}).status_code == 403
        answered = client.post(path, json=body, headers={"X-Client-Key": CLIENT_KEY})
        assert answered.status_code == 200 and answered.json()["model"]["version"] == "local"


def eventually(read, seconds: float = 60):
    """``read()`` once it is truthy; a test failure after ``seconds`` (a bound, not a measurement)."""
    deadline = time.monotonic() + seconds
    while not (value := read()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)
    return value


def test_the_service_is_ready_before_its_challenger_loads_and_follows_the_alias(
    registry, tmp_path, monkeypatch
):
    """Through the app's lifespan: a challenger held up in its download never holds up /ready,
    and the poll unloads it once its alias is removed."""
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    release = threading.Event()

    def held_up(source, cache_dir=None):
        release.wait(60)
        return load_model(source, cache_dir=cache_dir)

    monkeypatch.setattr("callcenterai.serving.challenger.load_model", held_up)
    with TestClient(create_app(settings(tmp_path, poll_seconds=0.1))) as client:
        ready = eventually(lambda: client.get("/ready").status_code == 200 and client.get("/ready").json())
        assert ready["challenger"] is None and ready["model"]["version"] == "1"
        release.set()
        assert eventually(lambda: client.get("/ready").json()["challenger"]) == {"name": NAME, "version": "2"}
        registry.client.delete_registered_model_alias(NAME, "challenger")
        eventually(lambda: client.get("/ready").json()["challenger"] is None)
        assert client.get("/model").json()["challenger"]["status"] == "none"


def test_a_registry_out_of_reach_keeps_the_challenger_as_it_is_and_counts_no_failure(
    registry, challenger_store_template, tmp_path, monkeypatch
):
    models = challenger_store_template["models"]
    champion = SimpleNamespace(current=Serving(load_model(models["1"]), "local"))
    metrics = ClassifierMetrics("tfidf_svc")
    first, second = (ChallengerHolder(settings(tmp_path / name), champion, metrics) for name in "ab")
    registry.client.set_registered_model_alias(NAME, "challenger", "2")
    assert first.refresh().status == "serving"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # the discard port: nothing answers
    assert first.refresh().status == "serving"
    unknown = second.refresh()
    assert (unknown.status, unknown.public_reason) == ("none", "the registry could not be reached")
    for cause in ("labels_differ", "load_failed"):
        assert (
            metrics.registry.get_sample_value(
                "callcenterai_challenger_load_failures_total", {"name": NAME, "cause": cause}
            )
            == 0
        )


def test_a_challenger_uri_naming_no_version_has_failed_and_is_counted_once(registry, tmp_path):
    client, app = started(tmp_path, challenger_uri_override=f"models:/{NAME}/99")
    app.state.challenger.refresh()
    card = client.get("/model", headers={"X-API-Key": API_KEY}).json()["challenger"]
    assert card["status"] == "failed" and "has no version 99" in card["reason"]
    assert failures(app, "load_failed") == 1
    assert_champion_unaffected(client)
