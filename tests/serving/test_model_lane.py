"""A model scored off the event loop (the transformer) runs one call at a time: batches
and single tickets go through the same worker lane, so neither makes the other share
the cores the model already uses.

In process: a stand-in predictor that records how many calls are inside it at once.
"""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import numpy as np

from callcenterai.httpkit.schemas import request_models
from callcenterai.kinds import kind_named
from callcenterai.serving.holder import Serving
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.scoring import Answers


class CountingPredictor:
    labels = ("Access", "Hardware")
    kind, backend = "transformer", "stand-in"

    def __init__(self):
        self.inside = self.most = 0
        self.lock, self.together = threading.Lock(), threading.Event()

    def predict_detailed(self, texts):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
            if self.inside > 1:
                self.together.set()
        # Stay long enough for another call to come in, if the lane lets one.
        self.together.wait(0.5)
        with self.lock:
            self.inside -= 1
        return np.tile([0.3, 0.7], (len(texts), 1)), [False] * len(texts)


def test_a_batch_and_a_single_ticket_never_run_the_model_at_once():
    predictor = CountingPredictor()
    model = SimpleNamespace(predictor=predictor, name="callcenterai-transformer-classifier", version="1")
    holder = SimpleNamespace(current=Serving(model, "local"), public_reason="")
    answers = Answers(
        holder, ClassifierMetrics("transformer_svc"), kind_named("transformer"), request_models(100, 10)[0]
    )

    async def batch_and_single():
        return await asyncio.gather(
            answers.predict_batch(SimpleNamespace(texts=["printer broken", "reset my password"]), "b"),
            answers.predict(SimpleNamespace(text="screen flickers"), "s"),
        )

    batch, single = asyncio.run(batch_and_single())
    assert [p["label"] for p in batch["predictions"]] == ["Hardware", "Hardware"]
    assert single["label"] == "Hardware"
    assert predictor.most == 1
