"""The scrubber's recall, false positives and cost per ticket, for each way of running it.

  .venv/bin/python benchmarks/scrub_bench.py

Variants: the agent's (Presidio pattern recognisers behind cheap gates, our
credential and URL-secret patterns), the same with every recogniser run on every
ticket (no gates), and the agent's with spaCy person names (PII_NAMES=1). Recall
on tests/fixtures/pii_tickets.jsonl by type; false positives: real tickets
changed, of 1,000 from the raw data; cost: per ticket, p50 and p99, on the fixture
tickets and on the real ones; and the cost of name detection on 2,000 tickets of
the test split (data/processed/test.csv, written by the pipeline).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from callcenterai.pii.entities import ENTITY_TYPES  # noqa: E402
from callcenterai.pii.finders import always  # noqa: E402
from callcenterai.pii.scrubber import Scrubber  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "pii_tickets.jsonl"
RAW = ROOT.parent / "shared" / "data" / "all_tickets_processed_improved_v3.csv"
TEST_SPLIT = ROOT / "data" / "processed" / "test.csv"
NAMES_SAMPLE = 2000


class Ungated(Scrubber):
    """Every finder on every ticket: what the gates save."""

    def __init__(self):
        super().__init__()
        self.finders = [dataclasses.replace(f, applies=always) for f in self.finders]


def per_ticket_us(scrubber, texts, repeat=3) -> tuple[float, float]:
    times = [seconds_to_scrub(scrubber, text) * 1e6 for _ in range(repeat) for text in texts]
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def recall(scrubber, tickets) -> dict[str, str]:
    found, total = Counter(), Counter()
    for ticket in tickets:
        spans = scrubber.find(ticket["text"])
        for truth in ticket["entities"]:
            total[truth["type"]] += 1
            found[truth["type"]] += any(
                e.type == truth["type"] and e.start <= truth["start"] and e.end >= truth["end"] for e in spans
            )
    return {t: f"{found[t]}/{total[t]}" for t in ENTITY_TYPES if total[t]}


def main() -> None:
    tickets = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    real = (
        pd.read_csv(RAW, dtype=str, keep_default_na=False).sample(n=1000, random_state=3)["Document"].tolist()
    )
    variants = {"agent (gated)": Scrubber(), "no gates": Ungated(), "agent + names": Scrubber(names=True)}
    print(
        "| variant | " + " | ".join(t for t in ENTITY_TYPES) + " | real tickets changed |"
        " fixture p50 / p99 µs | real p50 / p99 µs |"
    )
    print("|---|" + "---|" * (len(ENTITY_TYPES) + 3))
    for name, scrubber in variants.items():
        found = recall(scrubber, tickets)
        changed = sum(scrubber.scrub(t).text != t for t in real)
        fixture_cost = per_ticket_us(scrubber, [t["text"] for t in tickets])
        real_cost = per_ticket_us(scrubber, real)
        print(
            f"| {name} | "
            + " | ".join(found.get(t, "-") for t in ENTITY_TYPES)
            + f" | {changed}/1000 | {fixture_cost[0]:.0f} / {fixture_cost[1]:.0f} | "
            f"{real_cost[0]:.1f} / {real_cost[1]:.1f} |"
        )
    print(
        f"\n{len(tickets)} fixture tickets, {statistics.mean(len(t['entities']) for t in tickets):.1f} "
        "entities each on average; names count only where name detection is on"
    )
    names_cost(variants["agent (gated)"], variants["agent + names"])


def names_cost(without: Scrubber, with_names: Scrubber) -> None:
    """What name detection adds per ticket, on the test split (what the agent sees after the pipeline)."""
    split = pd.read_csv(TEST_SPLIT, dtype=str, keep_default_na=False)
    texts = split.sample(n=min(NAMES_SAMPLE, len(split)), random_state=3)["text"].tolist()
    print(f"\n{len(texts)} tickets of the test split, per ticket:\n")
    print("| names | p50 µs | p99 µs | mean µs | total s |\n|---|---|---|---|---|")
    for label, scrubber in (("off", without), ("on", with_names)):
        times = [seconds_to_scrub(scrubber, text) for text in texts]
        p50, p99 = np.percentile(times, 50) * 1e6, np.percentile(times, 99) * 1e6
        print(f"| {label} | {p50:.0f} | {p99:.0f} | {np.mean(times) * 1e6:.0f} | {sum(times):.2f} |")


def seconds_to_scrub(scrubber: Scrubber, text: str) -> float:
    started = time.perf_counter()
    scrubber.scrub(text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
