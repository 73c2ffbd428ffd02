"""The agent with the review spool on disk against the in-memory queue alone, in one run.

  .venv/bin/python -m benchmarks.review_spool_bench [--seconds 20] [--rounds 3]

(also the last section of benchmarks.agent_bench). Needs `wrk`, the pipeline's models/tfidf,
models/transformer and models/routing. Starts tfidf_svc, transformer_svc and two agents that differ
only in REVIEW_SPOOL (1: each flagged ticket appended to a SQLite spool before the store; 0: today's
queue in memory), each with its own SQLite review store in a scratch folder. The worst case for the
spool: a policy that flags every ticket and a gate that lets every one through, so every request
costs a spool append, a store write and a spool delete. Single /predict at 16 connections on test
tickets, rounds interleaved so a slow spell of the machine falls on both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
import pandas as pd

from benchmarks.service_bench import BENCH_KEY, LUA, start, stop, wrk

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16


def flag_everything(scratch: Path) -> Path:
    policy = json.loads((ROOT / "models" / "routing" / "policy.json").read_text())
    path = scratch / "flag-everything.json"
    path.write_text(json.dumps({**policy, "review_threshold": 1.01}))
    return path


def agent_env(name: str, spool: bool, backends: tuple[str, str], scratch: Path) -> dict:
    return {
        "LOG_LEVEL": "WARNING",
        "CALLCENTERAI_API_KEY": BENCH_KEY,
        "TFIDF_URL": backends[0],
        "TRANSFORMER_URL": backends[1],
        "ROUTING_POLICY": str(flag_everything(scratch)),
        "DATABASE_URL": f"sqlite:///{scratch / f'{name}-review.db'}",
        "REVIEW_SPOOL": "1" if spool else "0",
        "REVIEW_SPOOL_PATH": str(scratch / f"{name}-spool.db"),
        "REVIEW_WINDOW_SECONDS": "0.000001",  # every flagged ticket is let in: the most writes
        "REVIEW_MAX_NEW_PER_WINDOW": "1000000000",
    }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads (the spool's work runs in threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(process, url: str, script: Path, seconds: int) -> dict:
    """wrk's numbers, and the agent's CPU milliseconds per answered request: a busy machine slows
    both agents' rates alike, while their CPU cost per request stays what each one needs."""
    before = cpu_seconds(process.pid)
    result = wrk(url, script, CONNECTIONS, seconds)
    answered = result["rps"] * seconds
    return {**result, "cpu_ms": (cpu_seconds(process.pid) - before) * 1000 / max(answered, 1)}


def review_counts(url: str) -> dict[str, float]:
    counts = {}
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith("callcenterai_agent_review_store_total{"):
            counts[line.split('result="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
        if line.startswith("callcenterai_agent_review_spool_depth "):
            counts["spool depth"] = float(line.rsplit(" ", 1)[1])
    return counts


def compare(backends: tuple[str, str], texts: list[str], seconds: int, rounds: int, scratch: Path) -> None:
    script = scratch / "spool.lua"
    (scratch / "spool.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\n")
    script.write_text(LUA % (scratch / "spool.jsonl"))
    agents = {
        name: start("services.agent.app:app", agent_env(name, name == "spool", backends, scratch))
        for name in ("memory", "spool")
    }
    try:
        for _, url, _ in agents.values():
            wrk(url, script, CONNECTIONS, 3)
        results = [
            {name: measured(process, url, script, seconds) for name, (process, url, _) in agents.items()}
            for _ in range(rounds)
        ]
        counts = {name: review_counts(url) for name, (_, url, _) in agents.items()}
    finally:
        for process, _, _ in agents.values():
            stop(process)
    print_comparison(results, counts)


def print_comparison(results: list[dict], counts: dict) -> None:
    print(
        f"\nreview spool, every ticket flagged, single /predict at {CONNECTIONS} connections:\n"
        "| round | in-memory queue req/s | spool req/s | spool / in-memory | p99 ms in-memory / spool |"
        " agent CPU ms per request in-memory / spool | non-2xx |"
    )
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for i, r in enumerate(results, 1):
        ratios.append(r["spool"]["rps"] / r["memory"]["rps"])
        print(
            f"| {i} | {r['memory']['rps']:.0f} | {r['spool']['rps']:.0f} | {ratios[-1]:.2f} | "
            f"{r['memory']['p99_ms']:.1f} / {r['spool']['p99_ms']:.1f} | "
            f"{r['memory']['cpu_ms']:.2f} / {r['spool']['cpu_ms']:.2f} | "
            f"{r['memory']['non_2xx'] + r['spool']['non_2xx']} |"
        )
    print(f"\nmedian spool / in-memory ratio: {statistics.median(ratios):.2f}")
    for name, c in counts.items():
        print(f"{name}: review store results {c}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    test = pd.read_csv(ROOT / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False)
    quiet = {"LOG_LEVEL": "WARNING", "CALLCENTERAI_API_KEY": BENCH_KEY}
    tfidf, tfidf_url, _ = start("services.tfidf_svc.app:app", {**quiet, "MODEL_URI": "models/tfidf"})
    transformer, transformer_url, _ = start(
        "services.transformer_svc.app:app", {**quiet, "MODEL_URI": "models/transformer"}
    )
    try:
        with tempfile.TemporaryDirectory() as scratch:
            texts = test.text.tolist()[:1000]
            compare((tfidf_url, transformer_url), texts, args.seconds, args.rounds, Path(scratch))
    finally:
        for process in (transformer, tfidf):
            stop(process)


if __name__ == "__main__":
    main()
