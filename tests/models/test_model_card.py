"""A model card is checked when it is read: numbers that size loops and buffers are range-checked.

A card may come from a registry someone else writes to; an absurd ``max_length``,
``serving_batch_size`` or ``ngram_range`` must be refused at load with the field
named, not become a loop or a buffer of that size.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from callcenterai.config import MAX_NGRAM, MAX_SERVING_BATCH, MAX_TOKENS
from callcenterai.model_card import CardError, read_card
from callcenterai.models.tfidf_compiled import SERVED_TERMS, TfidfArrays

CARD = {
    "name": "callcenterai-transformer-classifier",
    "kind": "transformer",
    "labels": ["Access", "Hardware"],
    "params": {"ngram_range": [1, 2]},
    "training_data_md5": "0" * 32,
    "training_rows": 10,
    "trained_at": "2026-01-01T00:00:00+00:00",
    "max_length": 96,
    "serving_batch_size": 32,
}


def card_in(folder, **changes):
    (folder / "model_card.json").write_text(json.dumps({**CARD, **changes}), encoding="utf-8")
    return folder


def test_a_card_within_the_bounds_is_read(tmp_path):
    card = read_card(card_in(tmp_path, max_length=MAX_TOKENS, serving_batch_size=MAX_SERVING_BATCH))
    assert card.max_length == MAX_TOKENS and card.params["ngram_range"] == [1, 2]


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"max_length": 10**9}, f"max_length: Input should be less than or equal to {MAX_TOKENS}"),
        ({"max_length": 0}, "max_length: Input should be greater than or equal to 1"),
        (
            {"serving_batch_size": 10**7},
            f"serving_batch_size: Input should be less than or equal to {MAX_SERVING_BATCH}",
        ),
        ({"params": {"ngram_range": [1, 10**6]}}, f"1 <= low <= high <= {MAX_NGRAM}"),
        ({"params": {"ngram_range": [3, 1]}}, "params: "),
        ({"params": {"ngram_range": "1,2"}}, "ngram_range must be [low, high]"),
        ({"vocabulary_size": -5}, "vocabulary_size: "),
    ],
)
def test_a_card_with_an_absurd_number_is_refused_naming_the_field(tmp_path, changes, named):
    with pytest.raises(CardError) as refused:
        read_card(card_in(tmp_path, **changes))
    message = str(refused.value)
    assert "invalid model card" in message and named in message and "\n" not in message


def test_a_served_tfidf_form_with_an_absurd_ngram_range_is_refused():
    arrays = TfidfArrays(
        classes=("Access", "Hardware"),
        terms=[],
        idf=np.zeros(0),
        weights=np.zeros((0, 2)),
        bias=np.zeros(2),
        n_folds=1,
        sublinear=True,
        ngram_range=(1, 10**6),
        method="sigmoid",
        calibration={"a": np.zeros(2), "b": np.zeros(2)},
    )
    with pytest.raises(ValueError, match=rf"{SERVED_TERMS}: ngram_range must be"):
        arrays.check()
