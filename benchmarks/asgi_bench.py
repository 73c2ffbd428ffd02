"""Cost of one /predict request inside the process (no network), for bare FastAPI and tfidf_svc.

  .venv/bin/python -m benchmarks.asgi_bench [--requests 3000]

Drives each ASGI app directly with valid requests; "model stubbed" swaps the
predictor for a constant so the service's own overhead shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MODEL_URI", str(ROOT / "models" / "tfidf"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from benchmarks.bare_app import app as bare  # noqa: E402
from services.tfidf_svc.app import app as service  # noqa: E402


async def call(app, body: bytes) -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "app": app,
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent


async def per_request_us(app, bodies: list[bytes], requests: int) -> float:
    for body in bodies[:50]:
        await call(app, body)
    started = time.perf_counter()
    for i in range(requests):
        await call(app, bodies[i % len(bodies)])
    return (time.perf_counter() - started) / requests * 1e6


async def main(requests: int) -> None:
    texts = pd.read_csv(ROOT / "data" / "processed" / "test.csv").text.head(200).tolist()
    bodies = [json.dumps({"text": f"Ticket #{i}: {t}!!"}).encode() for i, t in enumerate(texts)]
    service.state.holder.load_initial()
    rows = [("bare FastAPI", await per_request_us(bare, bodies, requests))]
    rows.append(("tfidf_svc", await per_request_us(service, bodies, requests)))
    predictor = service.state.holder.current.model.predictor
    constant = np.full((1, len(predictor.labels)), 1.0 / len(predictor.labels))
    predictor.predict_proba = lambda texts: constant
    rows.append(("tfidf_svc, model stubbed", await per_request_us(service, bodies, requests)))
    rows.append(("bare FastAPI (again)", await per_request_us(bare, bodies, requests)))
    print("| app | µs per request |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    asyncio.run(main(parser.parse_args().requests))
