"""The reload safety check, on the model the pipeline fixture trained."""

from __future__ import annotations

import copy

import pytest

from callcenterai.model_card import SmokeTicket
from callcenterai.models.loading import load_model_dir
from callcenterai.serving.holder import ReloadRefused, smoke_check


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
