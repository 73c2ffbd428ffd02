"""The agent through the real services, side by side with its baselines, in one run.

  .venv/bin/python -m benchmarks.agent_bench [--seconds 20] [--rounds 3] [--soak-seconds 60] [--spool-only]

Needs `wrk`, the pipeline's models/tfidf, models/transformer and models/routing.
Starts tfidf_svc, transformer_svc, the agent and bare FastAPI proxies to tfidf_svc
as uvicorn processes on loopback. Measures:
  1. quality: the whole test split through the agent's /predict/batch against always
     combining both services (every ticket to both, probabilities averaged), on the
     whole split and on the half the policy was not fitted on; tickets per second of each;
  2. scrubbing: 2,000 test tickets with personal data appended, through the agent
     (scrubbed) and routed by the same policy without scrubbing;
  3. single /predict at 16 connections on TF-IDF-routed tickets, agent vs a bare proxy
     forwarding with httpx (the issue's baseline) and one forwarding with aiohttp (the agent's client);
  4. a soak at 32 connections on every kind of ticket: errors, memory after warm-up vs end;
  5. the review spool on disk against the in-memory queue alone, every ticket flagged
     (benchmarks.review_spool_bench; --spool-only runs this section alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from benchmarks.review_spool_bench import compare as compare_spool
from benchmarks.service_bench import BENCH_KEY, LUA, rss_mb, start, stop, wrk
from callcenterai.config import load_section
from callcenterai.routing.params import FitRoutingParams
from callcenterai.routing.policy import read_policy
from callcenterai.stages.fit_routing import halves

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 500
PROXY_CLIENTS = ("httpx", "aiohttp")  # the baseline, and one with the agent's own client
# Values only, no words around them: the comparison is about what scrubbing does,
# not about words such as "card" or "password" that rightly move a ticket's label.
PII = [
    "john.smith@acme.com +44 20 7946 0958",
    "4111 1111 1111 1111",
    "192.168.1.254 (415) 555-0132",
    "DE89 3704 0044 0532 0130 00 536-22-8741",
]


def batches(client: httpx.Client, url: str, texts: list[str]) -> tuple[list[dict], float]:
    started, answers = time.perf_counter(), []
    for i in range(0, len(texts), CHUNK):
        response = client.post(url + "/predict/batch", json={"texts": texts[i : i + CHUNK]})
        response.raise_for_status()
        answers += response.json()["predictions"]
    return answers, time.perf_counter() - started


async def _both(urls: tuple[str, str], texts: list[str]) -> list[tuple[dict, dict]]:
    async with httpx.AsyncClient(timeout=300) as client:
        out = []
        for i in range(0, len(texts), CHUNK):
            chunk = {"texts": texts[i : i + CHUNK]}
            a, b = await asyncio.gather(*(client.post(u + "/predict/batch", json=chunk) for u in urls))
            out += zip(a.json()["predictions"], b.json()["predictions"])
        return out


def always_both(urls, texts, labels) -> tuple[list[str], float, list[tuple[dict, dict]]]:
    started = time.perf_counter()
    pairs = asyncio.run(_both(urls, texts))
    elapsed = time.perf_counter() - started
    mean = [[(a["probabilities"][k] + b["probabilities"][k]) / 2 for k in labels] for a, b in pairs]
    return [labels[int(np.argmax(row))] for row in mean], elapsed, pairs


def scores(truth, predicted) -> str:
    accuracy = np.mean(np.array(truth) == np.array(predicted))
    return f"{accuracy:.4f} / {f1_score(truth, predicted, average='macro'):.4f}"


def routed_summary(answers: list[dict], truth: list[str]) -> dict:
    correct = np.array([a["label"] == t for a, t in zip(answers, truth)])
    auto = np.array([not a["needs_review"] for a in answers])
    return {
        "accuracy/F1": scores(truth, [a["label"] for a in answers]),
        "transformer rate": np.mean([a["route"]["model"] != "tfidf" for a in answers]),
        "review rate": 1 - auto.mean(),
        "unflagged accuracy": correct[auto].mean(),
    }


def without_scrubbing(policy, pairs, texts) -> list[str]:
    """The agent's routing applied to the backends' answers on raw text (what scrubbing changes)."""
    from callcenterai.text import normalize_text

    out = []
    for (tfidf, transformer), text in zip(pairs, texts):
        p_t = np.array([tfidf["probabilities"][k] for k in policy.labels])
        p_x = np.array([transformer["probabilities"][k] for k in policy.labels])
        reasons = policy.transformer_reasons(float(p_t.max()), len(normalize_text(text).split()), True)
        proba = policy.combine(p_t, p_x) if reasons else p_t
        out.append(policy.labels[int(proba.argmax())])
    return out


def quality(client, urls, texts, truth, held, policy) -> list[dict]:
    agent_url, tfidf_url, transformer_url = urls
    answers, agent_s = batches(client, agent_url, texts)
    baseline, baseline_s, _ = always_both((tfidf_url, transformer_url), texts, policy.labels)
    print(
        "| tickets | agent accuracy / macro-F1 | always-combine accuracy / macro-F1 | transformer rate |"
        " review rate | unflagged accuracy |"
    )
    print("|---|---|---|---|---|---|")
    for name, rows in (("whole test split", range(len(texts))), ("held-out half", held)):
        rows = list(rows)
        s = routed_summary([answers[i] for i in rows], [truth[i] for i in rows])
        combined = scores([truth[i] for i in rows], [baseline[i] for i in rows])
        print(
            f"| {name} ({len(rows)}) | {s['accuracy/F1']} | {combined}"
            f" | {s['transformer rate']:.1%} | {s['review rate']:.1%} | {s['unflagged accuracy']:.4f} |"
        )
    print(
        f"\n/predict/batch over {len(texts)} tickets: "
        f"agent {len(texts) / agent_s:.0f} tickets/s ({agent_s:.1f} s), "
        f"always-both {len(texts) / baseline_s:.0f} tickets/s ({baseline_s:.1f} s): "
        f"ratio {baseline_s / agent_s:.2f}x"
    )
    return answers


def scrubbing(client, urls, texts, truth, policy, clean_answers) -> None:
    agent_url, tfidf_url, transformer_url = urls
    n = min(2000, len(texts))
    with_pii = [f"{t} {PII[i % len(PII)]}" for i, t in enumerate(texts[:n])]
    scrubbed, _ = batches(client, agent_url, with_pii)
    _, _, pairs = always_both((tfidf_url, transformer_url), with_pii, policy.labels)
    raw = without_scrubbing(policy, pairs, with_pii)
    print(
        f"\nscrubbing, first {n} test tickets, accuracy / macro-F1: clean through the agent "
        f"{scores(truth[:n], [a['label'] for a in clean_answers[:n]])}; personal data appended, through the "
        f"agent (scrubbed) {scores(truth[:n], [a['label'] for a in scrubbed])}; same policy, not scrubbed "
        f"{scores(truth[:n], raw)}"
    )


def throughput(urls, answers, texts, args, scratch: Path) -> None:
    agent_url, tfidf_url, _ = urls
    routed = [t for t, a in zip(texts, answers) if a["route"]["model"] == "tfidf"][:500]
    raw = [t.upper() if i % 3 == 0 else t for i, t in enumerate(routed)]
    script = scratch / "tfidf_routed.lua"
    (scratch / "tfidf_routed.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in raw) + "\n")
    script.write_text(LUA % (scratch / "tfidf_routed.jsonl"))
    proxies = {
        client: start("benchmarks.bare_proxy:app", {"TFIDF_URL": tfidf_url, "PROXY_CLIENT": client})
        for client in PROXY_CLIENTS
    }
    targets = {**{client: url for client, (_, url, _) in proxies.items()}, "agent": agent_url}
    for url in targets.values():
        wrk(url, script, 16, 3)
    # Interleaved, so a slow spell of the machine falls on every target alike.
    rounds = [
        {name: wrk(url, script, 16, args.seconds) for name, url in targets.items()}
        for _ in range(args.rounds)
    ]
    for process, _, _ in proxies.values():
        stop(process)
    print_throughput(rounds, len(routed))


def print_throughput(rounds: list[dict], tickets: int) -> None:
    print(
        "\n| round | httpx proxy req/s | aiohttp proxy req/s | agent req/s | agent / httpx proxy |"
        " agent / aiohttp proxy | p50 / p99 ms: httpx proxy, aiohttp proxy, agent | agent non-2xx |"
    )
    print("|---|---|---|---|---|---|---|---|")
    ratios: dict[str, list[float]] = {client: [] for client in PROXY_CLIENTS}
    for i, r in enumerate(rounds, 1):
        for client in PROXY_CLIENTS:
            ratios[client].append(r["agent"]["rps"] / r[client]["rps"])
        latencies = ", ".join(
            f"{r[n]['p50_ms']:.1f} / {r[n]['p99_ms']:.1f}" for n in (*PROXY_CLIENTS, "agent")
        )
        rates = " | ".join(f"{r[n]['rps']:.0f}" for n in (*PROXY_CLIENTS, "agent"))
        shares = " | ".join(f"{ratios[c][-1]:.2f}" for c in PROXY_CLIENTS)
        print(f"| {i} | {rates} | {shares} | {latencies} | {r['agent']['non_2xx']} |")
    medians = ", ".join(f"agent / {c} proxy {statistics.median(ratios[c]):.2f}" for c in PROXY_CLIENTS)
    print(f"\nmedian single-ticket ratio, {tickets} TF-IDF-routed tickets: {medians}")


def soak(agent, agent_url, texts, args, scratch: Path) -> None:
    mixed = [f"{t} {PII[i % len(PII)]}" if i % 4 == 0 else t for i, t in enumerate(texts[:1000])]
    (scratch / "mixed.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in mixed) + "\n")
    script = scratch / "mixed.lua"
    script.write_text(LUA % (scratch / "mixed.jsonl"))
    wrk(agent_url, script, 32, 10)
    before = rss_mb(agent.pid)
    result = wrk(agent_url, script, 32, args.soak_seconds)
    after = rss_mb(agent.pid)
    print(
        f"\nsoak {args.soak_seconds} s at 32 connections, every kind of ticket "
        "(a quarter with personal data): "
        f"{result['rps']:.0f} req/s, non-2xx {result['non_2xx']}, socket errors {result['socket_errors']}, "
        f"p99 {result['p99_ms']:.1f} ms, agent RSS {before:.0f} MB after warm-up -> {after:.0f} MB at end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--soak-seconds", type=int, default=60)
    parser.add_argument("--spool-only", action="store_true", help="section 5 alone")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    test = pd.read_csv(ROOT / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False)
    texts, truth = test.text.tolist(), test.label.tolist()
    policy = read_policy(ROOT / "models" / "routing" / "policy.json")
    params = load_section("fit_routing", FitRoutingParams)
    _, held = halves(np.array([policy.labels.index(t) for t in truth]), params)
    quiet = {"LOG_LEVEL": "WARNING", "CALLCENTERAI_API_KEY": BENCH_KEY}
    tfidf, tfidf_url, _ = start("services.tfidf_svc.app:app", {**quiet, "MODEL_URI": "models/tfidf"})
    transformer, transformer_url, _ = start(
        "services.transformer_svc.app:app", {**quiet, "MODEL_URI": "models/transformer"}
    )
    agent_env = {**quiet, "TFIDF_URL": tfidf_url, "TRANSFORMER_URL": transformer_url}
    agent, agent_url, _ = start("services.agent.app:app", agent_env)
    urls = (agent_url, tfidf_url, transformer_url)
    try:
        with httpx.Client(timeout=300) as client, tempfile.TemporaryDirectory() as scratch:
            if args.spool_only:
                compare_spool(urls[1:], texts[:1000], args.seconds, args.rounds, Path(scratch))
                return
            batches(client, agent_url, texts[:200])  # warm-up, untimed
            always_both((tfidf_url, transformer_url), texts[:200], policy.labels)
            answers = quality(client, urls, texts, truth, held, policy)
            scrubbing(client, urls, texts, truth, policy, answers)
            throughput(urls, answers, texts, args, Path(scratch))
            soak(agent, agent_url, texts, args, Path(scratch))
            compare_spool(urls[1:], texts[:1000], args.seconds, args.rounds, Path(scratch))
    finally:
        for process in (agent, transformer, tfidf):
            stop(process)


if __name__ == "__main__":
    main()
