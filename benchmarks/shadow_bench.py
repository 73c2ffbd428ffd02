"""The agent with every ticket shadowed to a challenger against the agent with no challenger, in one
run; then what a challenger that hangs or answers 500s costs the agent's callers.

  .venv/bin/python -m benchmarks.shadow_bench [--seconds 15] [--rounds 3] [--connections 16]

Needs `wrk` and the project after the Quick start: its production models in mlflow.db,
data/processed/train.csv and test.csv, models/routing/policy.json. Every piece is a real process
over loopback: an `mlflow server` in a scratch folder with the project's production models
published to it (mlflow_registry.py publish), a challenger trained on the first 2,000 tickets of
train.csv, registered and set as `challenger` there by mlflow_registry.py; tfidf_svc twice over that
server, one serving the challenger beside production (SHADOWED), one with CHALLENGER_URI=none
(PLAIN); agents in front, each with its own SQLite review store (flagged tickets, shadow calls and
outcomes, traffic samples are written as in production).

The routing policy is the project's with TF-IDF answering every ticket alone, so every answer is
shadowed (SHADOW_SHARE 1.0, the default) and the shadow is the largest share of an answer's cost
it can be; no transformer is started, this policy never asks one.

1. Throughput: the agent over SHADOWED against the agent over PLAIN, single /predict and
   /predict/batch (32 test tickets a batch), rounds alternating so a slow spell of the machine falls
   on both alike; the median ratio, and the CPU milliseconds per ticket of each agent and each
   tfidf_svc (where the shadow's cost lands: here the challenger's scoring shares the agent's
   cores). Then the same test tickets through both agents, alone and in
   batches: the answers must be identical (label, confidence, probabilities, route).
2. Faults: the fault injector tests/faults/challenger_proxy.py (not a mock of the product: it
   forwards every call to the real tfidf_svc and only hangs, or answers 500, on /challenger/...) in
   front of SHADOWED for two agents, and in pass mode in front of PLAIN for the baseline agent.
   Single /predict in alternating rounds: errors (non-2xx and socket errors) and p50/p99 of each;
   the spread of the baseline's p99 over the rounds is the noise to judge the others by.

Prints the tables; writes benchmarks/results/shadow_bench.json. Exits non-zero when a caller saw an
error or two answers differ.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

from benchmarks.review_spool_bench import cpu_seconds
from benchmarks.service_bench import BENCH_KEY, LUA, free_port, start, stop, wrk
from tests.helpers import (
    register_tfidf,
    registry_command,
    run_script,
    running_mlflow_server,
    tfidf_only,
    training_head,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "shadow_bench.json"
CHALLENGER_ROWS = 2000
BATCH = 32
CHECKED_TICKETS = 256  # sent through both agents, answers compared


class Launcher:
    """``launch(module, env)`` starts a uvicorn process and returns its URL; ``pids`` by URL."""

    def __init__(self) -> None:
        self.started: list = []
        self.pids: dict[str, int] = {}

    def __call__(self, module: str, env: dict) -> str:
        self.started.append(start(module, {"LOG_LEVEL": "WARNING", "CALLCENTERAI_API_KEY": BENCH_KEY, **env}))
        process, url, _ = self.started[-1]
        self.pids[url] = process.pid
        return url


@contextlib.contextmanager
def processes():
    """A Launcher whose processes are all stopped at the end, newest first."""
    launch = Launcher()
    try:
        yield launch
    finally:
        for process, _, _ in reversed(launch.started):
            stop(process)


def challenger_store(scratch: Path, url: str) -> str:
    """Publish the project's production models to the server at ``url``, register a challenger
    trained on the head of the training split and set it; the challenger's version."""
    published = run_script("scripts/mlflow_registry.py", "publish", "--to", url)  # from the project's store
    if published.returncode != 0:
        sys.exit(f"publishing the production models failed: {published.stderr}")
    print(published.stdout, end="", flush=True)
    head = training_head(ROOT / "data" / "processed", CHALLENGER_ROWS, scratch / "head")
    version = register_tfidf(head, scratch, url, "challenger")
    registry_command(url, "challenger", "--version", version)
    print(f"challenger: version {version}, trained on the first {CHALLENGER_ROWS} tickets", flush=True)
    return version


def classifiers(launch, uri: str, scratch: Path, version: str) -> dict[str, str]:
    common = {"MLFLOW_TRACKING_URI": uri}
    urls = {
        "shadowed": launch("services.tfidf_svc.app:app", {**common, "MODEL_CACHE_DIR": str(scratch / "c1")}),
        "plain": launch(
            "services.tfidf_svc.app:app",
            {**common, "MODEL_CACHE_DIR": str(scratch / "c2"), "CHALLENGER_URI": "none"},
        ),
    }
    for _ in range(600):  # the challenger loads after the champion, never delaying /ready
        challenger = httpx.get(urls["shadowed"] + "/ready", timeout=5).json().get("challenger") or {}
        if challenger.get("version") == version:
            return urls
        time.sleep(0.1)
    sys.exit(f"tfidf_svc did not load challenger version {version}")


def agent(launch, backend: str, policy: Path, scratch: Path, name: str) -> str:
    return launch(
        "services.agent.app:app",
        {
            "TFIDF_URL": backend,
            "TRANSFORMER_URL": f"http://127.0.0.1:{free_port()}",  # nothing there: never asked by this policy
            "ROUTING_POLICY": str(policy),
            "DATABASE_URL": f"sqlite:///{scratch / f'{name}-review.db'}",
        },
    )


def scripts(texts: list[str], scratch: Path) -> dict[str, Path]:
    """wrk scripts posting the test tickets in turn: one each, or BATCH each."""
    bodies = {
        "single": [json.dumps({"text": t}) for t in texts],
        "batch": [
            json.dumps({"texts": texts[i : i + BATCH]}) for i in range(0, len(texts) - BATCH + 1, BATCH)
        ],
    }
    found = {}
    for kind, lines in bodies.items():
        (scratch / f"{kind}.jsonl").write_text("\n".join(lines) + "\n")
        found[kind] = scratch / f"{kind}.lua"
        found[kind].write_text(LUA % (scratch / f"{kind}.jsonl"))
    return found


def measured(url: str, pids: dict[str, int], script: Path, path: str, args) -> dict:
    """wrk's numbers, and the CPU milliseconds each process (agent, tfidf_svc) spent per request:
    a busy machine slows both sides' rates alike, while the CPU each request costs stays."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result = wrk(url, script, args.connections, args.seconds, path)
    requests = max(result["rps"] * args.seconds, 1)
    cpu = {name: round((cpu_seconds(pid) - before[name]) * 1000 / requests, 3) for name, pid in pids.items()}
    return {**result, "cpu_ms_per_request": cpu}


def rounds(targets: dict[str, tuple[str, dict]], script: Path, path: str, args) -> list[dict]:
    """wrk on each target (URL, pids to account CPU to) in turn, the order alternating by round."""
    names = list(targets)
    for name in names:  # warm-up, untimed
        wrk(targets[name][0], script, args.connections, 3, path)
    results = []
    for number in range(args.rounds):
        order = names if number % 2 == 0 else names[::-1]
        results.append({name: measured(*targets[name], script, path, args) for name in order})
    return results


def same_answers(first: str, second: str, texts: list[str]) -> int:
    """How many answers differ between the two agents, the texts sent alone and in batches."""

    def answers(url: str) -> list[dict]:
        with httpx.Client(base_url=url, timeout=60) as client:
            said = [client.post("/predict", json={"text": t}).json() for t in texts[:64]]
            for i in range(0, len(texts), BATCH):
                said += client.post("/predict/batch", json={"texts": texts[i : i + BATCH]}).json()[
                    "predictions"
                ]
        return [{k: v for k, v in a.items() if k != "latency_ms"} for a in said]

    return sum(a != b for a, b in zip(answers(first), answers(second), strict=True))


def shadow_counts(url: str) -> dict[str, float]:
    counts = {}
    for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith('callcenterai_shadow_tickets_total{backend="tfidf"'):
            counts[line.split('result="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    return counts


def errors_of(result: dict) -> int:
    return result["non_2xx"] + (0 if result["socket_errors"] == "none" else 1)


def throughput(launch, urls, policy, scratch, scripts_by_kind, texts, args) -> dict:
    agents = {name: agent(launch, urls[name], policy, scratch, name) for name in ("plain", "shadowed")}
    targets = {
        name: (url, {"agent": launch.pids[url], "tfidf_svc": launch.pids[urls[name]]})
        for name, url in agents.items()
    }
    by_kind = {
        kind: rounds(
            targets, scripts_by_kind[kind], "/predict" if kind == "single" else "/predict/batch", args
        )
        for kind in ("single", "batch")
    }
    differ = same_answers(agents["plain"], agents["shadowed"], texts[:CHECKED_TICKETS])
    return {"rounds": by_kind, "answers_differ": differ, "shadow": shadow_counts(agents["shadowed"])}


def faults(launch, urls, policy, scratch, script, args) -> dict:
    proxy = "tests.faults.challenger_proxy:app"
    fronts = {
        "baseline": launch(proxy, {"FAULT_UPSTREAM": urls["plain"], "FAULT_MODE": "pass"}),
        "hang": launch(proxy, {"FAULT_UPSTREAM": urls["shadowed"], "FAULT_MODE": "hang"}),
        "error": launch(proxy, {"FAULT_UPSTREAM": urls["shadowed"], "FAULT_MODE": "error"}),
    }
    agents = {name: agent(launch, url, policy, scratch, f"fault-{name}") for name, url in fronts.items()}
    targets = {name: (url, {"agent": launch.pids[url]}) for name, url in agents.items()}
    by_round = rounds(targets, script, "/predict", args)
    return {"rounds": by_round, "shadow": {name: shadow_counts(url) for name, url in agents.items()}}


MODES = ("baseline", "hang", "error")


def cpu_cells(plain: dict, shadowed: dict, unit: int) -> str:
    """CPU ms per ticket of the agent and of tfidf_svc, each side."""
    cells = []
    for process in ("agent", "tfidf_svc"):
        costs = [side["cpu_ms_per_request"][process] / unit for side in (plain, shadowed)]
        cells.append(f"{costs[0]:.2f} / {costs[1]:.2f}")
    return " | ".join(cells)


def report_throughput(results: dict, connections: int) -> bool:
    ok = True
    for kind, unit in (("single", 1), ("batch", BATCH)):
        path = "/predict" if unit == 1 else f"/predict/batch of {BATCH}"
        print(f"\n{kind} ({path}), {connections} connections:")
        print(
            "| round | no challenger tickets/s | 100 % shadowed tickets/s | ratio | p99 ms plain / shadowed |"
            " agent CPU ms per ticket plain / shadowed | tfidf_svc CPU ms per ticket plain / shadowed |"
        )
        print("|---|---|---|---|---|---|---|")
        ratios = []
        for number, r in enumerate(results["rounds"][kind], 1):
            plain, shadowed = r["plain"], r["shadowed"]
            ratios.append(shadowed["rps"] / plain["rps"])
            ok &= errors_of(plain) + errors_of(shadowed) == 0
            print(
                f"| {number} | {plain['rps'] * unit:.0f} | {shadowed['rps'] * unit:.0f} | {ratios[-1]:.2f} | "
                f"{plain['p99_ms']:.1f} / {shadowed['p99_ms']:.1f} | {cpu_cells(plain, shadowed, unit)} |"
            )
        results[f"{kind}_median_ratio"] = round(statistics.median(ratios), 3)
        print(f"median ratio shadowed / no challenger ({kind}): {results[f'{kind}_median_ratio']:.2f}")
    print(f"errors seen by callers: {'none' if ok else 'some (see the JSON)'}")
    print(f"answers differing between the two agents: {results['answers_differ']}")
    print(f"shadowed agent's shadow counts: {results['shadow']}")
    return ok and results["answers_differ"] == 0


def report_faults(results: dict, connections: int) -> bool:
    ok = True
    print(f"\nfaults, single /predict, {connections} connections (p50 / p99 ms, req/s):")
    print("| round | no challenger (proxied) | challenger hangs | challenger answers 500 | caller errors |")
    print("|---|---|---|---|---|")
    for number, r in enumerate(results["rounds"], 1):
        errors = sum(errors_of(r[name]) for name in MODES)
        ok &= errors == 0
        cells = " | ".join(f"{r[n]['p50_ms']:.1f} / {r[n]['p99_ms']:.1f}, {r[n]['rps']:.0f}" for n in MODES)
        print(f"| {number} | {cells} | {errors} |")
    for name in MODES:
        p50 = statistics.median(r[name]["p50_ms"] for r in results["rounds"])
        p99 = [r[name]["p99_ms"] for r in results["rounds"]]
        spread = f"rounds {min(p99):.1f}-{max(p99):.1f}"
        print(f"{name}: median p50 {p50:.1f} ms, p99 {statistics.median(p99):.1f} ms ({spread})")
    print(f"shadow counts per agent: {results['shadow']}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    texts = pd.read_csv(
        ROOT / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False
    ).text.tolist()
    with tempfile.TemporaryDirectory(prefix="shadow-bench-") as tmp:
        scratch = Path(tmp)
        (scratch / "mlflow").mkdir()
        with running_mlflow_server(scratch / "mlflow") as uri, processes() as launch:
            version = challenger_store(scratch, uri)
            urls = classifiers(launch, uri, scratch, version)
            policy = tfidf_only(ROOT / "models" / "routing" / "policy.json", scratch)
            by_kind = scripts(texts[:2048], scratch)
            results = {"throughput": throughput(launch, urls, policy, scratch, by_kind, texts, args)}
            results["faults"] = faults(launch, urls, policy, scratch, by_kind["single"], args)
    ok = report_throughput(results["throughput"], args.connections)
    ok &= report_faults(results["faults"], args.connections)
    results["settings"] = vars(args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
