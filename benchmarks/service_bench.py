"""tfidf_svc against a bare FastAPI endpoint, side by side, over loopback with wrk.

  .venv/bin/python benchmarks/service_bench.py [--seconds 20] [--soak-seconds 60]

Needs `wrk` (apt-get install wrk) and a trained models/tfidf. Both servers run as
one uvicorn worker with access logs off; wrk runs 1 thread, 16 connections,
posting real test tickets in turn. Measures: single /predict throughput ratio
and latency, /predict/batch of 1,000 tickets, time to ready, and a soak at 32
connections (errors, memory after warm-up vs end).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-key-not-a-secret-0123456789"  # the services want 32 characters or more
LUA = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(module: str, env: dict) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            module,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    probe = "/ready" if "services" in module else "/docs"
    while True:
        try:
            if httpx.get(url + probe, timeout=1).status_code == 200:
                return process, url, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.perf_counter() - started > 60:
            sys.exit(f"{module} did not become ready")
        time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def wrk(url: str, script: Path, connections: int, seconds: int, path: str = "/predict") -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20, help="each throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/service rounds")
    parser.add_argument("--soak-seconds", type=int, default=60)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    texts = pd.read_csv(ROOT / "data" / "processed" / "test.csv").text.head(500).tolist()
    raw = [f"Ticket #{i}: {t.upper() if i % 3 == 0 else t}!!" for i, t in enumerate(texts)]
    env = {"MODEL_URI": "models/tfidf", "LOG_LEVEL": "WARNING", "CALLCENTERAI_API_KEY": BENCH_KEY}
    with tempfile.TemporaryDirectory() as scratch:
        bodies = Path(scratch) / "bodies.jsonl"
        bodies.write_text("\n".join(json.dumps({"text": t}) for t in raw) + "\n")
        script = Path(scratch) / "post.lua"
        script.write_text(LUA % bodies)

        bare, bare_url, _ = start("benchmarks.bare_app:app", {})
        svc, svc_url, ready_s = start("services.tfidf_svc.app:app", env)
        wrk(bare_url, script, 16, 3)  # warm-up, untimed
        wrk(svc_url, script, 16, 3)
        rounds = []
        for _ in range(args.rounds):
            rounds.append((wrk(bare_url, script, 16, args.seconds), wrk(svc_url, script, 16, args.seconds)))
        stop(bare)

        batch = {"texts": raw[:500] + raw[:500]}
        timings = []
        with httpx.Client(timeout=30) as client:
            for _ in range(21):
                started = time.perf_counter()
                response = client.post(svc_url + "/predict/batch", json=batch)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200 and len(response.json()["predictions"]) == 1000
        timings = timings[1:]

        wrk(svc_url, script, 32, 10)  # warm-up before the memory baseline
        rss_before = rss_mb(svc.pid)
        soak = wrk(svc_url, script, 32, args.soak_seconds)
        rss_after = rss_mb(svc.pid)
        stop(svc)

    print("| round | bare req/s | tfidf_svc req/s | ratio | svc p50 ms | svc p99 ms | bare p99 ms |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for i, (b, s) in enumerate(rounds, 1):
        ratios.append(s["rps"] / b["rps"])
        print(
            f"| {i} | {b['rps']:.0f} | {s['rps']:.0f} | {ratios[-1]:.2f} | {s['p50_ms']:.2f} | "
            f"{s['p99_ms']:.2f} | {b['p99_ms']:.2f} |"
        )
    print(f"\nmedian throughput ratio (tfidf_svc / bare): {statistics.median(ratios):.2f}")
    print(
        f"/predict/batch, 1,000 tickets: median {statistics.median(timings):.1f} ms, "
        f"max {max(timings):.1f} ms (20 runs)"
    )
    print(f"ready after start (local model): {ready_s:.2f} s")
    print(
        f"soak {args.soak_seconds} s at 32 connections: {soak['rps']:.0f} req/s, non-2xx {soak['non_2xx']}, "
        f"socket errors {soak['socket_errors']}, p99 {soak['p99_ms']:.2f} ms, "
        f"RSS {rss_before:.0f} MB after warm-up -> {rss_after:.0f} MB at end"
    )


if __name__ == "__main__":
    main()
