"""transformer_svc against plain PyTorch inference of the same fine-tuned model, side by side.

  .venv/bin/python -m benchmarks.transformer_bench [--tickets 2000] [--rounds 3]

Needs `wrk` (apt-get install wrk), models/transformer (served: int8 ONNX) and
models/transformer-fp32 (the same fine-tuned model, fp32, Hugging Face form),
both written by `dvc repro`.

- baseline: `transformers` + torch fp32, the model's own tokenizer, the trained
  max length and the service's batch size, batches in input order, padded to
  the longest ticket of each batch (what a plain inference loop does);
- service: POST /predict/batch to transformer_svc (one uvicorn worker) with
  1,000 tickets a request, end to end over loopback, JSON included;
- in process: the service's ONNX predictor called directly (no HTTP), for insight.
Rounds alternate baseline and service; the ratio is the median over rounds.
Then single-ticket latency at 8 connections with wrk (20 s, after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

from benchmarks.service_bench import LUA, start, stop, wrk

ROOT = Path(__file__).resolve().parent.parent


def torch_baseline(folder: Path, texts: list[str], labels: list[str], max_length: int, batch_size: int):
    import torch
    from transformers import AutoTokenizer

    from callcenterai.models.finetune import load_fine_tuned

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = load_fine_tuned(str(folder), labels).eval()  # the torch module it was trained as

    def run() -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                batch = tokenizer(
                    texts[i : i + batch_size],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                )
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                logits.softmax(dim=-1)
        return len(texts) / (time.perf_counter() - started)

    return run


def service_batches(url: str, texts: list[str], per_request: int = 1000):
    def run() -> float:
        started = time.perf_counter()
        with httpx.Client(timeout=300) as client:
            for i in range(0, len(texts), per_request):
                response = client.post(url + "/predict/batch", json={"texts": texts[i : i + per_request]})
                response.raise_for_status()
        return len(texts) / (time.perf_counter() - started)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-seconds", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    served, fp32 = ROOT / "models" / "transformer", ROOT / "models" / "transformer-fp32"
    card = json.loads((served / "model_card.json").read_text())
    texts = pd.read_csv(ROOT / "data" / "processed" / "test.csv").text.head(args.tickets).tolist()
    max_length, batch_size = card["max_length"], card["serving_batch_size"]

    from callcenterai.models.loading import load_model_dir

    predictor = load_model_dir(served).predictor
    baseline = torch_baseline(fp32, texts, card["labels"], max_length, batch_size)
    baseline()  # warm-up
    process, url, ready_s = start("services.transformer_svc.app:app", {"MODEL_URI": str(served)})
    try:
        service = service_batches(url, texts)
        service()  # warm-up
        rounds = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            predictor.predict_proba(texts)
            in_process = len(texts) / (time.perf_counter() - started)
            rounds.append((baseline(), service(), in_process))
        print(
            f"transformer_svc ready in {ready_s:.1f} s; {len(texts)} test tickets, max_length {max_length}, "
            f"batch size {batch_size}"
        )
        print(
            "| round | torch fp32 tickets/s | transformer_svc tickets/s | ratio | ONNX in process tickets/s |"
        )
        print("|---|---|---|---|---|")
        for i, (base, svc, inproc) in enumerate(rounds, 1):
            print(f"| {i} | {base:.0f} | {svc:.0f} | {svc / base:.2f} | {inproc:.0f} |")
        ratio = statistics.median(svc / base for base, svc, _ in rounds)
        print(f"median ratio transformer_svc / torch fp32: {ratio:.2f}")

        with tempfile.TemporaryDirectory() as tmp:
            bodies = Path(tmp) / "bodies.txt"
            bodies.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[:500]))
            script = Path(tmp) / "post.lua"
            script.write_text(LUA % bodies)
            wrk(url, script, 8, 5)  # warm-up
            single = wrk(url, script, 8, args.latency_seconds)
        print(
            f"single tickets, 8 connections, {args.latency_seconds} s: {single['rps']:.0f} req/s, "
            f"p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms, non-2xx {single['non_2xx']}, "
            f"socket errors {single['socket_errors']}"
        )
    finally:
        stop(process)


if __name__ == "__main__":
    main()
