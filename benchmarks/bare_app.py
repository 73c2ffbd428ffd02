"""The baseline for tfidf_svc's throughput bar: a bare FastAPI endpoint with the same JSON shapes.

Same request model (validation included), same response class and uvicorn
settings; no model, no normalisation, no metrics. Served as
`uvicorn benchmarks.bare_app:app`.
"""

from fastapi import FastAPI

from callcenterai.httpkit.responses import JSONBytes
from callcenterai.httpkit.schemas import request_models
from callcenterai.serving.schemas import EXAMPLE_PROBABILITIES

PredictRequest, _ = request_models(20_000, 1_000)
ANSWER = {
    "label": "Hardware",
    "confidence": 0.93,
    "probabilities": EXAMPLE_PROBABILITIES,
    "model": {"name": "bare", "version": "0", "kind": "none"},
}

app = FastAPI(default_response_class=JSONBytes)


@app.post("/predict")
async def predict(body: PredictRequest):  # type: ignore[valid-type]
    return JSONBytes({**ANSWER, "latency_ms": 0.0})
