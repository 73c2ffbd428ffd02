"""Turning a served model's probabilities into contract answers, on or off the event loop.

A kind whose single ticket costs tens of microseconds (TF-IDF) is scored on the
event loop, where a thread hop would cost more than the work; any other kind
is scored in a worker thread, one request at a time, single tickets and batches
through the same lane (the model uses every core itself), so /health, /ready and
cheap requests keep answering during a burst.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol, Sequence

import anyio
import orjson
from pydantic import BaseModel

from callcenterai.errors import NotReady
from callcenterai.httpkit.schemas import text_or_none
from callcenterai.kinds import ModelKind
from callcenterai.serving.holder import Serving
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.text import nothing_to_classify, wordless

log = logging.getLogger("callcenterai.service")


class ServedModel(Protocol):
    """What answers read: the champion's holder, or the challenger's."""

    @property
    def current(self) -> Serving | None: ...

    @property
    def unavailable(self) -> str: ...


class Answers:
    """``counted``: predictions go to the prediction metrics (the champion's; a challenger's
    shadowed tickets would count each ticket twice and skew the label mix)."""

    def __init__(
        self,
        holder: ServedModel,
        metrics: ClassifierMetrics,
        kind: ModelKind,
        request: type[BaseModel],
        counted: bool = True,
        missing: type[Exception] = NotReady,
    ):
        self.holder, self.metrics, self.kind, self.request = holder, metrics, kind, request
        self.counted = counted
        self.missing = missing  # raised, with the holder's reason, while it serves no model
        # One model call at a time off the loop; None: the kind scores on the event loop.
        self.model_lane = None if kind.score_on_event_loop else anyio.CapacityLimiter(1)

    def serving_now(self) -> Serving:
        serving = self.holder.current
        if serving is None:
            raise self.missing(self.holder.unavailable)
        return serving

    def scored(self, labels: tuple[str, ...], row, truncated: bool | None = None) -> dict:
        values = row.tolist()
        best = max(range(len(values)), key=values.__getitem__)
        if self.counted:
            self.metrics.observe_prediction(labels[best], values[best])
        answer = {
            "label": labels[best],
            "confidence": values[best],
            "probabilities": dict(zip(labels, values)),
        }
        if truncated is not None:  # only models with a length limit say whether they cut the text
            answer["truncated"] = truncated
            if truncated and self.counted:
                self.metrics.truncated.inc()
        return answer

    def answer_one(self, serving: Serving, text: str, request_id: str, started: float) -> dict:
        predictor = serving.model.predictor
        proba, cut = predictor.predict_detailed([text])
        answer = self.scored(predictor.labels, proba[0], None if cut is None else cut[0])
        answer["model"] = serving.ref
        answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "predict id=%s chars=%d label=%s confidence=%.3f",
                request_id,
                len(text),
                answer["label"],
                answer["confidence"],
            )
        return answer

    async def one(self, serving: Serving, text: str, request_id: str, started: float) -> dict:
        if wordless([text]):  # a model would score it anyway, from nothing: a label at its prior
            raise nothing_to_classify()
        if self.kind.score_on_event_loop:
            return self.answer_one(serving, text, request_id, started)
        return await anyio.to_thread.run_sync(
            self.answer_one, serving, text, request_id, started, limiter=self.model_lane
        )

    async def predict(self, body, request_id: str) -> dict:
        """/predict's answer to a valid request body, or NotReady."""
        started = time.perf_counter()
        return await self.one(self.serving_now(), body.text, request_id, started)

    async def fast_predict(self, body: bytes, request_id: str) -> bytes | None:
        """/predict straight from the body bytes; None (the route answers) for anything unusual."""
        started = time.perf_counter()
        serving = self.holder.current
        if serving is None:
            return None
        text = text_or_none(self.request, body)
        if text is None:
            return None
        return orjson.dumps(await self.one(serving, text, request_id, started))

    async def predict_batch(self, body, request_id: str) -> dict:
        """/predict/batch's answer to a valid request body, or NotReady."""
        started = time.perf_counter()
        texts: Sequence[str] = body.texts
        serving = self.serving_now()
        predictor = serving.model.predictor
        # Off the event loop: a 1,000-ticket batch must not stall single requests. In the
        # model's lane: a batch beside single tickets would make both share the cores.
        proba, cut = await anyio.to_thread.run_sync(
            scores_of_words, predictor, texts, limiter=self.model_lane
        )
        cut = cut if cut is not None else [None] * len(proba)
        answer = {
            "predictions": [self.scored(predictor.labels, row, c) for row, c in zip(proba, cut)],
            "model": serving.ref,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        log.info(
            "batch id=%s texts=%d chars=%d ms=%.1f",
            request_id,
            len(texts),
            sum(map(len, texts)),
            answer["latency_ms"],
        )
        return answer


def scores_of_words(predictor, texts: Sequence[str]):
    """``predict_detailed`` of a batch whose every text has words left; BadInput naming those without."""
    empty = wordless(texts)
    if empty:
        raise nothing_to_classify(empty)
    return predictor.predict_detailed(texts)
