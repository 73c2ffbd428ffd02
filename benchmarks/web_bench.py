"""The web interface through the real stack: a 10,000-ticket batch and 60 s of classify load.

  .venv/bin/python -m benchmarks.web_bench [--tickets 10000] [--seconds 60] [--connections 8]

Needs `wrk` and the pipeline's models/tfidf, models/transformer and models/routing.
Starts tfidf_svc, transformer_svc, the agent (review store in a temporary folder)
and the web interface as uvicorn processes on loopback. Measures, in one run:
  1. a CSV of N raw tickets uploaded to /batch, polled as the page does until done,
     and downloaded; beside it the same tickets straight through the agent's
     /predict/batch in the page's chunk size (the baseline: what the page adds);
  2. POST /classify (a form with the session's CSRF token) at C connections for S
     seconds with wrk: requests per second, latency, non-2xx responses.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pandas as pd

from benchmarks.service_bench import BENCH_KEY, start, stop, wrk

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw" / "all_tickets_processed_improved_v3.csv"
CHUNK = 200
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def batch_through_page(web_url: str, texts: list[str]) -> dict:
    body = io.StringIO()
    csv.writer(body).writerows([["text"], *[[t] for t in texts]])
    with httpx.Client(base_url=web_url, timeout=600) as client:
        token = TOKEN.search(client.get("/batch").text).group(1)
        started = time.perf_counter()
        response = client.post(
            "/batch",
            files={"file": ("t.csv", body.getvalue().encode(), "text/csv")},
            data={"csrf_token": token},
        )
        job, polls = response.headers["location"], 0
        while "Download results" not in client.get(job, headers={"hx-request": "true"}).text:
            polls += 1
            time.sleep(0.5)
        scored = time.perf_counter() - started
        rows = client.get(job + "/results.csv").text.count("\n") - 1
        total = time.perf_counter() - started
    return {"scored_s": scored, "with_download_s": total, "rows": rows, "progress_polls": polls}


def batch_through_agent(agent_url: str, texts: list[str]) -> float:
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        for i in range(0, len(texts), CHUNK):
            client.post(agent_url + "/predict/batch", json={"texts": texts[i : i + CHUNK]}).raise_for_status()
        return time.perf_counter() - started


def classify_load(web_url: str, text: str, seconds: int, connections: int, scratch: Path) -> dict:
    with httpx.Client(base_url=web_url) as client:
        token = TOKEN.search(client.get("/classify").text).group(1)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    body = f"csrf_token={quote(token)}&text={quote(text)}"
    script = scratch / "classify.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {body!r}\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Cookie"] = {cookie!r}\n'
        'wrk.headers["HX-Request"] = "true"\n'
    )
    return wrk(web_url, script, connections, seconds, path="/classify")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    raw = pd.read_csv(RAW, dtype=str, keep_default_na=False)
    texts = raw.Document.head(args.tickets).tolist()
    quiet = {"LOG_LEVEL": "WARNING", "CALLCENTERAI_API_KEY": BENCH_KEY}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        stack = []
        try:
            tfidf, tfidf_url, _ = start("services.tfidf_svc.app:app", {**quiet, "MODEL_URI": "models/tfidf"})
            stack.append(tfidf)
            transformer, transformer_url, _ = start(
                "services.transformer_svc.app:app", {**quiet, "MODEL_URI": "models/transformer"}
            )
            stack.append(transformer)
            database = {"DATABASE_URL": f"sqlite:///{scratch / 'review.db'}"}
            agent_env = {**quiet, **database, "TFIDF_URL": tfidf_url, "TRANSFORMER_URL": transformer_url}
            agent, agent_url, _ = start("services.agent.app:app", agent_env)
            stack.append(agent)
            web_env = {**quiet, **database, "AGENT_URL": agent_url, "AGENT_BATCH_SIZE": str(CHUNK)}
            web_env["CLASSIFY_REQUIRES_LOGIN"] = "0"  # the page's own cost, without a reviewer's sign-in
            web_env["COOKIE_SECURE"] = "0"  # plain HTTP here: a Secure cookie would never come back
            web, web_url, _ = start("services.web_interface.app:app", web_env)
            stack.append(web)
            batch_through_agent(agent_url, texts[:400])  # warm-up, untimed
            agent_s = batch_through_agent(agent_url, texts)
            page = batch_through_page(web_url, texts)
            print(
                f"batch of {len(texts)}: page {page} ; agent alone {agent_s:.1f} s ; "
                f"page/agent time {page['scored_s'] / agent_s:.2f}"
            )
            load = classify_load(web_url, texts[0][:500], args.seconds, args.connections, scratch)
            print(f"POST /classify, {args.connections} connections for {args.seconds} s: {load}")
        finally:
            for process in reversed(stack):
                stop(process)


if __name__ == "__main__":
    sys.exit(main())
