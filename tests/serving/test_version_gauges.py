"""The two version gauges the served-model alert compares: the version served, and where the
registry's alias pointed on its last answer. The registry is faked at ``resolve``: what is tested
is what the holder tells the metrics, on load, on each poll, and while the registry is away."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from callcenterai.errors import ModelLoadError, RegistryUnavailable
from callcenterai.serving.holder import ModelHolder, Serving, poll_registry
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.settings import ClassifierSettings

NAME = "callcenterai-tfidf-classifier"
URI = f"models:/{NAME}@production"


def served_version(metrics: ClassifierMetrics) -> float | None:
    return metrics.registry.get_sample_value("callcenterai_model_served_version", {"name": NAME})


def registry_version(metrics: ClassifierMetrics) -> float | None:
    return metrics.registry.get_sample_value("callcenterai_model_registry_version", {"name": NAME})


def fake_model(version: str) -> SimpleNamespace:
    predictor = SimpleNamespace(kind="tfidf", backend="numpy", labels=["Access", "Hardware"])
    return SimpleNamespace(name=NAME, version=version, predictor=predictor)


class FakeRegistry:
    """``resolve`` as the holder calls it: answers with ``version`` or raises ``error``."""

    def __init__(self, version: str):
        self.version, self.error, self.calls = version, None, 0

    def resolve(self, uri: str):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return None, SimpleNamespace(name=NAME, version=self.version)


@pytest.fixture()
def registry(monkeypatch) -> FakeRegistry:
    fake = FakeRegistry("3")
    monkeypatch.setattr("callcenterai.serving.holder.resolve", fake.resolve)
    return fake


def wired_holder(tmp_path, uri: str = URI) -> tuple[ModelHolder, ClassifierMetrics]:
    """A holder wired to its metrics the way the classifier app wires them."""
    metrics = ClassifierMetrics("tfidf_svc")
    settings = ClassifierSettings(
        service="tfidf_svc", kind="tfidf", model_uri_override=uri, cache_dir_override=tmp_path
    )
    holder = ModelHolder(
        settings,
        on_swap=lambda s: metrics.set_model(s.model.name, s.model.version, s.model.predictor.kind, s.source),
        on_registry_check=metrics.set_registry_version,
    )
    return holder, metrics


def test_neither_gauge_exists_before_a_model_is_loaded(tmp_path):
    _, metrics = wired_holder(tmp_path)
    exposed = {sample.name for family in metrics.registry.collect() for sample in family.samples}
    assert "callcenterai_model_served_version" not in exposed
    assert "callcenterai_model_registry_version" not in exposed


def test_a_model_from_the_registry_sets_both_gauges_to_its_version(tmp_path):
    holder, metrics = wired_holder(tmp_path)
    holder._swap(Serving(fake_model("3"), "registry"))
    assert served_version(metrics) == 3 and registry_version(metrics) == 3


def test_the_local_copy_sets_the_served_version_but_not_the_registry_one(tmp_path):
    holder, metrics = wired_holder(tmp_path)
    holder._swap(Serving(fake_model("2"), "cache", warning="registry unavailable"))
    assert served_version(metrics) == 2 and registry_version(metrics) is None


def test_a_model_from_a_folder_sets_no_version_gauge(tmp_path):
    holder, metrics = wired_holder(tmp_path, uri=str(tmp_path / "models" / "tfidf"))
    holder._swap(Serving(fake_model("local"), "local"))
    assert served_version(metrics) is None and registry_version(metrics) is None


def test_a_registry_check_sets_the_registry_gauge_and_an_unreachable_registry_leaves_it(registry, tmp_path):
    holder, metrics = wired_holder(tmp_path)
    assert holder.registry_version() == "3" and registry_version(metrics) == 3
    registry.error = RegistryUnavailable("connection refused")
    assert holder.registry_version() is None and registry_version(metrics) == 3
    registry.error = ModelLoadError("no version has the alias 'production'")
    assert holder.registry_version() is None and registry_version(metrics) == 3


def test_each_poll_updates_the_registry_gauge(registry, tmp_path):
    holder, metrics = wired_holder(tmp_path)
    holder._swap(Serving(fake_model("3"), "registry"))
    reloads: list[str] = []
    holder.reload = lambda: reloads.append("reload")  # the load itself is not what is tested here

    async def poll_until(calls: int) -> None:
        task = asyncio.create_task(poll_registry(holder, 0.01, lambda result: None))
        for _ in range(500):  # bounded: 5 s at most
            if registry.calls >= calls:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(poll_until(2))
    assert registry_version(metrics) == 3 and reloads == []
    registry.version = "4"  # the alias moved: the gauge says so at the next poll, before any reload
    asyncio.run(poll_until(registry.calls + 1))
    assert registry_version(metrics) == 4 and served_version(metrics) == 3 and reloads
    registry.error = RegistryUnavailable("connection refused")
    asyncio.run(poll_until(registry.calls + 2))
    assert registry_version(metrics) == 4
