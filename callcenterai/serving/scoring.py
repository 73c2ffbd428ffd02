"""Turning a served model's probabilities into contract answers, on or off the event loop.

A kind whose single ticket costs tens of microseconds (TF-IDF) is scored on the
event loop, where a thread hop would cost more than the work; any other kind
is scored in a worker thread, one request at a time (the model uses every core
itself), so /health, /ready and cheap requests keep answering during a burst.
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import anyio
import orjson
from fastapi import HTTPException
from pydantic import BaseModel

from callcenterai.kinds import ModelKind
from callcenterai.serving.holder import ModelHolder, Serving
from callcenterai.serving.metrics import ClassifierMetrics
from callcenterai.serving.schemas import text_or_none

log = logging.getLogger("callcenterai.service")


class Answers:
    def __init__(
        self, holder: ModelHolder, metrics: ClassifierMetrics, kind: ModelKind, request: type[BaseModel]
    ):
        self.holder, self.metrics, self.kind, self.request = holder, metrics, kind, request
        self.single_lane = anyio.CapacityLimiter(1)

    def serving_now(self) -> Serving:
        serving = self.holder.current
        if serving is None:
            raise HTTPException(503, f"not ready: {self.holder.not_ready_reason}")
        return serving

    def scored(self, labels: tuple[str, ...], row, truncated: bool | None = None) -> dict:
        values = row.tolist()
        best = max(range(len(values)), key=values.__getitem__)
        self.metrics.observe_prediction(labels[best], values[best])
        answer = {
            "label": labels[best],
            "confidence": values[best],
            "probabilities": dict(zip(labels, values)),
        }
        if truncated is not None:  # only models with a length limit say whether they cut the text
            answer["truncated"] = truncated
            if truncated:
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
        if self.kind.score_on_event_loop:
            return self.answer_one(serving, text, request_id, started)
        return await anyio.to_thread.run_sync(
            self.answer_one, serving, text, request_id, started, limiter=self.single_lane
        )

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

    async def batch(self, texts: Sequence[str], request_id: str) -> dict:
        started = time.perf_counter()
        serving = self.serving_now()
        predictor = serving.model.predictor
        # Off the event loop: a 1,000-ticket batch must not stall single requests.
        proba, cut = await anyio.to_thread.run_sync(predictor.predict_detailed, texts)
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
