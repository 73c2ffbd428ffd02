"""Two agent replicas behind HAProxy (deploy/haproxy/haproxy.cfg, round-robin) against one agent direct.

  .venv/bin/python -m benchmarks.replicas [--seconds 20] [--rounds 3] [--connections 16]

Needs `wrk`, `haproxy` (Debian packages) and the pipeline's models/tfidf, models/transformer and
models/routing. Starts tfidf_svc and transformer_svc once, two agents over them (the same backends)
and HAProxy in front of both agents; then single-ticket /predict through the proxy and to the first
agent direct, in interleaved rounds so a slow spell of the machine falls on both alike. Prints
req/s, non-2xx and socket errors per round and the median ratio proxy / direct. On a machine with
as many cores as this one has, two replicas are not expected to serve more: the ratio shows what
the proxy costs, not how replicas scale.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

from benchmarks.service_bench import BENCH_KEY, LUA, free_port, start, stop, wrk

ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"


def start_haproxy(agents: list[str]) -> tuple[subprocess.Popen, str]:
    """HAProxy with the shipped config: its agent frontend over ``agents`` (its web one unused)."""
    agent_port, unused = free_port(), free_port()
    env = {
        "AGENT_BIND": f"127.0.0.1:{agent_port}",
        "AGENT_1": agents[0].removeprefix("http://"),
        "AGENT_2": agents[1].removeprefix("http://"),
        "WEB_BIND": f"127.0.0.1:{unused}",
        "WEB_1": f"127.0.0.1:{free_port()}",  # nothing listens: marked down, never used here
        "WEB_2": f"127.0.0.1:{free_port()}",
    }
    process = subprocess.Popen(
        [shutil.which("haproxy") or "haproxy", "-db", "-f", str(HAPROXY_CONFIG)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{agent_port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    sys.exit("haproxy did not start")


def compare(targets: dict[str, str], script: Path, args) -> list[dict]:
    for url in targets.values():  # warm-up, untimed
        wrk(url, script, args.connections, 3)
    return [
        {name: wrk(url, script, args.connections, args.seconds) for name, url in targets.items()}
        for _ in range(args.rounds)
    ]


def report(rounds: list[dict], connections: int) -> None:
    print(
        "\n| round | direct req/s | via HAProxy (2 replicas) req/s | ratio |"
        " non-2xx / socket errors: direct, proxy |"
    )
    print("|---|---|---|---|---|")
    ratios = []
    for number, r in enumerate(rounds, 1):
        direct, proxy = r["direct"], r["proxy"]
        ratios.append(proxy["rps"] / direct["rps"])
        errors = f"{direct['non_2xx']}/{direct['socket_errors']}, {proxy['non_2xx']}/{proxy['socket_errors']}"
        print(f"| {number} | {direct['rps']:.0f} | {proxy['rps']:.0f} | {ratios[-1]:.2f} | {errors} |")
    print(
        f"\nmedian ratio via HAProxy / direct at {connections} connections: {statistics.median(ratios):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20, help="each run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved direct/proxy rounds")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    for tool in ("wrk", "haproxy"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed: apt-get install {tool}")
    texts = pd.read_csv(ROOT / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False).text
    quiet = {"LOG_LEVEL": "WARNING", "CALLCENTERAI_API_KEY": BENCH_KEY, "DATABASE_URL": ""}
    processes = []
    try:
        for kind in ("tfidf", "transformer"):
            processes.append(start(f"services.{kind}_svc.app:app", {**quiet, "MODEL_URI": f"models/{kind}"}))
        backends = {"TFIDF_URL": processes[0][1], "TRANSFORMER_URL": processes[1][1]}
        for _ in range(2):
            processes.append(start("services.agent.app:app", {**quiet, **backends}))
        proxy, proxy_url = start_haproxy([processes[2][1], processes[3][1]])
        processes.append((proxy, proxy_url, 0.0))
        with tempfile.TemporaryDirectory() as scratch:
            bodies, script = Path(scratch) / "tickets.jsonl", Path(scratch) / "tickets.lua"
            bodies.write_text("\n".join(json.dumps({"text": t}) for t in texts.head(500)) + "\n")
            script.write_text(LUA % bodies)
            rounds = compare({"direct": processes[2][1], "proxy": proxy_url}, script, args)
        report(rounds, args.connections)
    finally:
        for process, _, _ in reversed(processes):
            stop(process)


if __name__ == "__main__":
    main()
