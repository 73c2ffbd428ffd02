"""The service's road from the registry, in process, against a real sqlite MLflow store:
a tampered version is refused and the old model keeps serving; start-up falls back to the
local copy only when the registry cannot be reached; the poll picks up a model; a replaced
model is freed."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path
from urllib.parse import urlparse

import pytest

from callcenterai.registry.promotion import Registry
from callcenterai.serving.holder import ModelHolder, ReloadRefused, poll_registry
from callcenterai.serving.settings import ClassifierSettings

URI = "models:/callcenterai-tfidf-classifier@production"


def holder_for(tmp_path: Path, uri: str = URI) -> ModelHolder:
    settings = ClassifierSettings(
        service="tfidf_svc", kind="tfidf", model_uri_override=uri, cache_dir_override=tmp_path / "cache"
    )
    return ModelHolder(settings)


def promoted(store, tag: str) -> Registry:
    registry = Registry("tfidf")
    registry.register(store[tag]["card"].mlflow_run_id)
    return registry


def served_folder_of(registry: Registry, version: str) -> Path:
    uri = registry.client.get_model_version_download_uri(registry.name, version)
    root = Path(urlparse(uri).path)
    return next(p.parent for p in root.rglob("compiled.npz"))


def test_a_version_whose_files_changed_after_registration_is_refused_and_the_old_one_serves(
    fresh_store, tmp_path
):
    store = fresh_store
    registry = promoted(store, "good")
    registry.promote("1")
    holder = holder_for(tmp_path)
    holder.load_initial()
    assert holder.current.model.version == "1"
    registry.register(store["worse"]["card"].mlflow_run_id)
    folder = served_folder_of(registry, "2")
    with open(folder / "vocabulary.json", "a") as handle:
        handle.write(" ")
    registry.promote("2", force=True, reason="test")
    with pytest.raises(ReloadRefused, match="differ from what was registered"):
        holder.reload()
    assert holder.current.model.version == "1"


def test_a_registry_that_answers_no_is_not_ready_even_with_a_local_copy(store, tmp_path):
    registry = promoted(store, "good")
    registry.promote("1")
    first = holder_for(tmp_path)
    first.load_initial()
    assert first.current is not None and (tmp_path / "cache" / "model_card.json").is_file()
    registry.client.delete_registered_model_alias(registry.name, "production")
    second = holder_for(tmp_path)
    second.load_initial()
    assert second.current is None
    assert "no version of callcenterai-tfidf-classifier has the alias 'production'" in second.not_ready_reason


def test_a_service_started_without_a_model_picks_one_up_when_polling(store, tmp_path):
    registry = promoted(store, "good")
    holder = holder_for(tmp_path)
    holder.load_initial()
    assert holder.current is None
    registry.promote("1")
    results = []

    async def poll_until_served():
        task = asyncio.create_task(poll_registry(holder, 0.05, results.append))
        for _ in range(400):  # bounded: 20 s at most
            if results:
                break
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(poll_until_served())
    assert holder.current is not None and holder.current.model.version == "1" and results == ["ok"]


def test_a_replaced_model_is_freed(store, tmp_path):
    holder = holder_for(tmp_path, uri=str(store["good"]["model_dir"]))
    holder.load_initial()
    first = weakref.ref(holder.current.model)
    for _ in range(3):
        holder.reload()
    gc.collect()
    assert first() is None
