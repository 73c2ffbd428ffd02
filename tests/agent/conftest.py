"""The agent over real classifier services in process: tiny TF-IDF models, the classifier app
served by uvicorn on loopback in a thread, and the agent app through Starlette's TestClient."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.helpers import free_port, policy

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers
WORDS = {
    "Access": ["password", "login", "account", "vpn", "access", "locked", "sign in", "credentials"],
    "Hardware": ["laptop", "printer", "screen", "keyboard", "monitor", "mouse", "battery", "docking station"],
    "Storage": ["disk", "quota", "share", "backup", "folder", "drive", "files", "storage space"],
}


def training_rows(count: int) -> pd.DataFrame:
    """Tickets of three labels, each naming two of its label's words."""
    rows = []
    for i in range(count):
        for label, words in WORDS.items():
            first, second = words[i % len(words)], words[(i * 3 + 1) % len(words)]
            rows.append({"text": f"my {first} and the {second} need help today", "label": label})
    return pd.DataFrame(rows)


def tiny_tfidf(folder: Path, per_label: int) -> Path:
    """A TF-IDF model folder as train_tfidf writes it (without MLflow), trained on ``per_label``
    tickets of each label."""
    from callcenterai.config import TrainTfidfParams
    from callcenterai.models.folder import write_model_folder
    from callcenterai.stages.train_tfidf import _files_of, fit

    folder.mkdir(parents=True)
    training_rows(per_label).to_csv(folder / "train.csv", index=False)
    pipeline, card, _ = fit(folder / "train.csv", TrainTfidfParams(calibration_folds=2, min_df=1))
    write_model_folder(folder / "model", card, _files_of(pipeline))
    return folder / "model"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """A champion, and a challenger trained on fewer tickets (it disagrees on some)."""
    folder = tmp_path_factory.mktemp("tiny-models")
    return {
        "champion": tiny_tfidf(folder / "champion", 16),
        "challenger": tiny_tfidf(folder / "challenger", 3),
    }


@contextlib.contextmanager
def served(app, what: str):
    """``app`` served by uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=what, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"{what} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def tfidf_service(folder: Path, models: dict[str, Path], challenger: bool = True):
    """The real classifier service over the tiny champion, with the tiny challenger or none; its URL
    once /ready says both are loaded."""
    from callcenterai.serving.app import create_app
    from callcenterai.serving.settings import ClassifierSettings

    settings = ClassifierSettings(
        service="tfidf_svc",
        kind="tfidf",
        MODEL_URI=str(models["champion"]),
        CHALLENGER_URI=str(models["challenger"]) if challenger else "none",
        MODEL_CACHE_DIR=folder / "cache",
    )
    with served(create_app(settings), "tfidf_svc") as url:
        deadline = time.monotonic() + 60
        while not ready(url, challenger):
            if time.monotonic() > deadline:
                pytest.fail("tfidf_svc never got ready")
            time.sleep(0.05)
        yield url


@pytest.fixture(scope="session")
def tiny_service(tiny_models, tmp_path_factory) -> str:
    """The classifier service over the tiny champion and challenger, shared (it keeps no state)."""
    with tfidf_service(tmp_path_factory.mktemp("tiny-service"), tiny_models) as url:
        yield url


def ready(url: str, challenger: bool) -> bool:
    answer = httpx.get(url + "/ready", timeout=5)
    return answer.status_code == 200 and (answer.json().get("challenger") is not None) == challenger


def tfidf_only_policy(folder: Path, **changes) -> Path:
    """The test policy, with TF-IDF answering every ticket alone (no confidence, length or language
    sends one to the transformer): every answer is one the TF-IDF challenger shadows."""
    language = {"languages": ["en"], "min_probability": 0.9, "min_words": 10**6}
    values = dict(labels=list(WORDS), tfidf_threshold=0.0, max_words=None, language=language)
    policy(**{**values, **changes}).write(folder)
    return folder / "policy.json"


@contextlib.contextmanager
def agent_app(folder: Path, tfidf_url: str, policy_changes: dict | None = None, **settings):
    """The agent app (lifespan running) in front of ``tfidf_url``, the transformer nowhere, routing
    by ``tfidf_only_policy`` with ``policy_changes``."""
    from callcenterai.agent.app import create_app
    from callcenterai.agent.settings import AgentSettings

    values = {
        "TFIDF_URL": tfidf_url,
        "TRANSFORMER_URL": NOWHERE,
        "ROUTING_POLICY": str(tfidf_only_policy(folder, **(policy_changes or {}))),
        "DATABASE_URL": "",
        "BACKEND_PROBE_SECONDS": 0.2,
        **settings,
    }
    with TestClient(create_app(AgentSettings(**values))) as client:
        yield client


def sample(client: TestClient, name: str, **labels) -> float:
    registry = client.app.state.agent.metrics.registry
    return registry.get_sample_value(name, labels) or 0.0


def until(check, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)
