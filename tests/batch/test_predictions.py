"""The rows every batch engine writes: columns in the model's label order, refused rows kept in place."""

from __future__ import annotations

import numpy as np
import pytest

from callcenterai.batch.predictions import BLANK_TEXT, prediction_columns, score_texts
from callcenterai.errors import BadInput
from callcenterai.text import NOTHING_TO_CLASSIFY

LABELS = ("Storage", "Access", "Hardware")  # not sorted: the model's order is the output's


class ByLengthPredictor:
    """Puts all its weight on one label chosen by the text's length; records batch sizes."""

    labels = LABELS

    def __init__(self):
        self.batches: list[int] = []

    def predict_proba(self, texts):
        self.batches.append(len(texts))
        proba = np.zeros((len(texts), len(LABELS)))
        proba[np.arange(len(texts)), [len(t) % len(LABELS) for t in texts]] = 1.0
        return proba


def test_columns_follow_the_models_label_order():
    assert prediction_columns(LABELS) == [
        "label",
        "confidence",
        "p_Storage",
        "p_Access",
        "p_Hardware",
        "refused",
    ]


def test_rows_keep_their_place_and_wordless_ones_are_refused_unscored():
    predictor = ByLengthPredictor()
    texts = ["vpn", "!!!", "disk", "4411", "mouse"]
    scored = score_texts(predictor, texts, batch_size=2)
    assert list(scored.columns) == prediction_columns(LABELS)
    assert predictor.batches == [2, 1]
    assert scored.label.tolist() == ["Storage", "", "Access", "", "Hardware"]
    assert scored.refused.tolist() == ["", NOTHING_TO_CLASSIFY, "", NOTHING_TO_CLASSIFY, ""]
    assert scored.confidence.isna().tolist() == [False, True, False, True, False]


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_text_is_refused_as_bad_input(blank):
    with pytest.raises(BadInput, match=BLANK_TEXT):
        score_texts(ByLengthPredictor(), ["printer jam", blank])
