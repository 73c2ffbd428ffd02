"""A classifier service that answers at once, for benchmarks of the agent alone.

Answers the contract's /ready, /model, /predict and /predict/batch with a fixed
answer over the labels in ``STUB_LABELS`` (comma-separated; the routing policy's).
Served as `uvicorn benchmarks.stub_classifier:app`.
"""

import os

from fastapi import FastAPI, Request

from callcenterai.httpkit.responses import JSONBytes

LABELS = os.environ.get("STUB_LABELS", "Access,Hardware").split(",")
MODEL = {"name": "callcenterai-stub-classifier", "version": "0", "kind": "stub"}
PROBABILITIES = {label: (0.93 if i == 0 else 0.07 / (len(LABELS) - 1)) for i, label in enumerate(LABELS)}
ANSWER = {"label": LABELS[0], "confidence": 0.93, "probabilities": PROBABILITIES}

app = FastAPI(default_response_class=JSONBytes)


@app.get("/ready")
async def ready():
    return {"ready": True, "model": MODEL}


@app.get("/model")
async def model():
    return {**MODEL, "labels": LABELS, "file_sha256": {}}


@app.post("/predict")
async def predict():
    return {**ANSWER, "model": MODEL, "latency_ms": 0.0}


@app.post("/predict/batch")
async def predict_batch(request: Request):
    texts = (await request.json())["texts"]
    return {"predictions": [ANSWER] * len(texts), "model": MODEL, "latency_ms": 0.0}
