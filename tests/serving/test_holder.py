"""The reload safety check, on the model the pipeline fixture trained."""

from __future__ import annotations

import asyncio
import copy
from types import SimpleNamespace

import pytest

from callcenterai.model_card import SmokeTicket
from callcenterai.models.loading import load_model_dir
from callcenterai.serving.holder import ReloadRefused, poll_registry, smoke_check


@pytest.fixture()
def model(trained_project):
    folder, _ = trained_project
    return load_model_dir(folder / "models" / "tfidf")


def test_the_card_records_known_tickets_the_model_gets_right(model):
    known = model.card.smoke_tickets
    assert {t.label for t in known} == set(model.predictor.labels)
    smoke_check(model)


def test_a_model_that_no_longer_knows_its_tickets_is_refused(model):
    broken = copy.copy(model)
    labels = model.predictor.labels
    broken.card = model.card.model_copy(
        update={
            "smoke_tickets": [
                SmokeTicket(text=t.text, label=labels[(labels.index(t.label) + 1) % len(labels)])
                for t in model.card.smoke_tickets
            ]
        }
    )
    with pytest.raises(ReloadRefused, match="classifies only 0 of"):
        smoke_check(broken)


def test_a_changed_label_set_is_refused(model):
    with pytest.raises(ReloadRefused, match="label set changed"):
        smoke_check(model, expected_labels=("Access", "Hardware"))


def polled(holder, check_challenger, calls: list[str], until: int) -> list[str]:
    """Run the registry poll until ``calls`` has ``until`` entries (bounded: 5 s at most)."""

    async def poll() -> None:
        task = asyncio.create_task(poll_registry(holder, 0.01, lambda result: None, check_challenger))
        for _ in range(500):
            if len(calls) >= until:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(poll())
    return calls[:until]


def test_one_poll_checks_production_then_the_challenger_each_time():
    calls: list[str] = []

    def production_unchanged() -> bool:
        calls.append("production")
        return False

    order = polled(
        SimpleNamespace(wants_reload=production_unchanged), lambda: calls.append("challenger"), calls, 6
    )
    assert order == ["production", "challenger"] * 3


def test_a_check_that_breaks_stops_neither_the_other_nor_the_poll():
    calls: list[str] = []

    def production_breaks() -> bool:
        calls.append("production")
        raise RuntimeError("the registry answered nonsense")

    def challenger_breaks() -> None:
        calls.append("challenger")
        raise RuntimeError("the challenger's registry answered nonsense")

    order = polled(SimpleNamespace(wants_reload=production_breaks), challenger_breaks, calls, until=4)
    assert order == ["production", "challenger", "production", "challenger"]
