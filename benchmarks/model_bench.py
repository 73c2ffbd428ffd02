"""Per-ticket cost of the TF-IDF model: fitted pipeline vs compiled form (C kernel and Python), and batching.

  .venv/bin/python benchmarks/model_bench.py

Uses models/tfidf and 200 raw-form test tickets; prints mean microseconds a ticket.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from callcenterai.models.loading import load_model_dir
from callcenterai.models.tfidf import PIPELINE_FILE, compile_pipeline, load_pipeline
from callcenterai.text import normalize_text

ROOT = Path(__file__).resolve().parent.parent


def per_ticket_us(fn, texts, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn(texts)
    return (time.perf_counter() - started) / (repeat * len(texts)) * 1e6


def main() -> None:
    model = load_model_dir(ROOT / "models" / "tfidf").predictor
    tickets = pd.read_csv(ROOT / "data" / "processed" / "test.csv").text.head(256).tolist()
    raw = [f"Ticket #{i}: {t}!!" for i, t in enumerate(tickets)]
    pipeline = load_pipeline(ROOT / "models" / "tfidf" / PIPELINE_FILE)
    rows = [
        (
            "fitted pipeline, one ticket a call",
            per_ticket_us(lambda ts: [pipeline.predict_proba([t]) for t in ts], raw[:40], 2),
        )
    ]
    for compiled in (model.compiled, compile_pipeline(pipeline, native=False)):
        name = f"compiled ({compiled.backend})"
        rows.append(
            (
                f"{name}, one ticket a call",
                per_ticket_us(lambda ts: [compiled.predict_one(t) for t in ts], raw, 5),
            )
        )
        for size in (16, 256):
            rows.append(
                (
                    f"{name}, batches of {size}",
                    per_ticket_us(
                        lambda ts: [
                            compiled.predict_proba(ts[i : i + size]) for i in range(0, len(ts), size)
                        ],
                        raw,
                        5,
                    ),
                )
            )
    rows.append(("fitted pipeline, batch of 256", per_ticket_us(pipeline.predict_proba, raw, 5)))
    rows.append(
        (
            "normalize_text alone (part of every row)",
            per_ticket_us(lambda ts: [normalize_text(t) for t in ts], raw, 5),
        )
    )
    print("| path | µs per ticket |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.1f} |")


if __name__ == "__main__":
    main()
