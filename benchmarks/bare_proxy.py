"""The baseline for the agent's single-ticket bar: a bare FastAPI proxy to tfidf_svc.

Same request model, response class and uvicorn settings as the agent; one shared
httpx client; no scrubbing, no routing, no metrics. `TFIDF_URL` names the backend.
Served as `uvicorn benchmarks.bare_proxy:app`.
"""

import os

import httpx
import orjson
from fastapi import FastAPI

from callcenterai.serving.responses import JSONBytes
from callcenterai.serving.schemas import request_models

PredictRequest, _ = request_models(20_000, 1_000)
TFIDF_URL = os.environ.get("TFIDF_URL", "http://127.0.0.1:8001")
client = httpx.AsyncClient(limits=httpx.Limits(max_connections=64, max_keepalive_connections=64), timeout=5)
app = FastAPI(default_response_class=JSONBytes)


@app.post("/predict")
async def predict(body: PredictRequest):  # type: ignore[valid-type]
    response = await client.post(
        TFIDF_URL + "/predict",
        content=orjson.dumps({"text": body.text}),
        headers={"content-type": "application/json"},
    )
    return JSONBytes(orjson.loads(response.content), status_code=response.status_code)
