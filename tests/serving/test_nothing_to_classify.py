"""A classifier service refuses (BadInput, a 422) a text that normalises to nothing, rather than
scoring the empty string and answering its prior; single, fast path and batch alike."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np
import orjson
import pytest

from callcenterai.errors import BadInput
from callcenterai.httpkit.schemas import request_models
from callcenterai.kinds import kind_named
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.scoring import Answers
from callcenterai.text import NOTHING_TO_CLASSIFY

PredictRequest, BatchRequest = request_models(200, 5)
LABELS = ("Access", "Hardware", "Storage")


class CountingPredictor:
    """Answers the prior for anything, as a real model does for an empty string; records what it saw."""

    kind, labels = "tfidf", LABELS

    def __init__(self):
        self.seen: list[str] = []

    def predict_detailed(self, texts):
        self.seen.extend(texts)
        return np.full((len(texts), len(LABELS)), 1 / len(LABELS)), None


@pytest.fixture(params=["tfidf", "transformer"])  # on the event loop, and in the worker lane
def answers(request) -> Answers:
    predictor = CountingPredictor()
    model = SimpleNamespace(predictor=predictor, name="m", version="1")
    holder = SimpleNamespace(current=SimpleNamespace(model=model, ref={"name": "m", "version": "1"}))
    return Answers(holder, ClassifierMetrics("test"), kind_named(request.param), PredictRequest)


def seen(answers: Answers) -> list[str]:
    return answers.holder.current.model.predictor.seen


@pytest.mark.parametrize("text", ["!!!", "4411 2024", "#42 -- ?", "a b c"])
def test_a_text_with_no_words_is_bad_input_and_never_scored(answers, text):
    with pytest.raises(BadInput, match=f"^text: {NOTHING_TO_CLASSIFY}$"):
        asyncio.run(answers.predict(PredictRequest(text=text), "r1"))
    with pytest.raises(BadInput, match=NOTHING_TO_CLASSIFY):
        asyncio.run(answers.fast_predict(orjson.dumps({"text": text}), "r2"))
    assert seen(answers) == []


def test_a_batch_names_each_text_with_no_words(answers):
    body = BatchRequest(texts=["printer broken", "!!!", "screen", "12 34"])
    with pytest.raises(BadInput, match=f"^texts.1, texts.3: {NOTHING_TO_CLASSIFY}$"):
        asyncio.run(answers.predict_batch(body, "r3"))
    assert seen(answers) == []


def test_a_text_with_words_is_scored(answers):
    answer = asyncio.run(answers.predict(PredictRequest(text="printer broken!!!"), "r4"))
    assert answer["label"] in LABELS and seen(answers) == ["printer broken!!!"]
