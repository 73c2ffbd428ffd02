"""The same load through the agent of the process stack and of the compose stack, in one run.

  .venv/bin/python -m benchmarks.stack_load [--seconds 60] [--connections 32] [--tickets 2000]

Needs `wrk` (apt-get install wrk), the project after the Quick start (its models
registered, data/processed/test.csv) and the images built
(`python scripts/build_images.py`). First the process stack (`scripts/stack.py up`
on ports offset by 30000), then the compose stack (podman-compose, the project's
production models published to its MLflow): each gets `--seconds` of single-ticket
/predict at `--connections` connections, tickets drawn from the test split. Counts
every answer by status from the agent's own /metrics (so a 5xx cannot hide in
wrk's "non-2xx"), and prints requests per second and the compose/process ratio.
Writes benchmarks/results/stack_load.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pandas as pd

from benchmarks.service_bench import LUA

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "stack_load.json"
STATUS_LINE = re.compile(
    r'^callcenterai_requests_total\{endpoint="/predict",method="POST",status="(\d+)"\} (\S+)$'
)


def answers_by_status(agent_url: str) -> dict[str, float]:
    text = httpx.get(f"{agent_url}/metrics", timeout=10).text
    return {m.group(1): float(m.group(2)) for m in map(STATUS_LINE.match, text.splitlines()) if m}


def ticket_bodies(count: int, folder: Path) -> Path:
    test = pd.read_csv(ROOT / "data" / "processed" / "test.csv")
    sample = test.sample(n=min(count, len(test)), random_state=0)
    path = folder / "bodies.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in sample.iloc[:, 0].astype(str)))
    return path


def load(agent_url: str, client_key: str, bodies: Path, seconds: int, connections: int) -> dict:
    """wrk against /predict; the agent's counters before and after give every status."""
    script = bodies.parent / f"load-{abs(hash(agent_url))}.lua"
    lua = LUA % bodies
    lua = lua.replace(
        'wrk.headers["Content-Type"] = "application/json"',
        (
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["X-Client-Key"] = "{client_key}"'
        ),
    )
    script.write_text(lua)
    before = answers_by_status(agent_url)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), f"{agent_url}/predict"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = answers_by_status(agent_url)
    counted = {status: after.get(status, 0) - before.get(status, 0) for status in after}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "answers_by_status": {k: int(v) for k, v in counted.items() if v},
        "server_errors": int(sum(v for k, v in counted.items() if k.startswith("5"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    from benchmarks.stacks import compose_stack_agent, process_stack_agent

    results = {}
    with tempfile.TemporaryDirectory(prefix="stack-load-") as tmp:
        bodies = ticket_bodies(args.tickets, Path(tmp))
        for name, stack in (("process", process_stack_agent), ("compose", compose_stack_agent)):
            with stack(Path(tmp) / name) as (url, key):
                load(url, key, bodies, 5, args.connections)  # warm-up, not counted
                results[name] = load(url, key, bodies, args.seconds, args.connections)
            print(f"{name}: {results[name]}", flush=True)
    results["compose_over_process"] = round(results["compose"]["rps"] / results["process"]["rps"], 3)
    results["settings"] = vars(args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    sys.exit(0 if results["process"]["server_errors"] == results["compose"]["server_errors"] == 0 else 1)


if __name__ == "__main__":
    main()
