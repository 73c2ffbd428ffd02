"""The scrubber under crafted input: worst case at the size limit, and the cost of an ordinary ticket.

  .venv/bin/python benchmarks/scrub_adversarial.py [--baseline DIR] [--repeat 5]

The corpus is ``tests/pii/adversarial.py`` (every pattern's worst case, filled
to MAX_TEXT_CHARS). Each crafted ticket is scrubbed ``--repeat`` times; the
table lists the slowest shapes by median, with the fastest run (a busy machine
shows in the gap; the load average is printed). The typical cost is the
per-ticket p50, p99 and mean over 2,000 tickets of the test split and over the
labelled fixture, names off.

``--baseline DIR`` measures a second copy of the ``callcenterai.pii`` modules
(e.g. the committed ones) in the same process, ticket by ticket in turn with
the current ones, so that the machine's load falls on both alike:

  mkdir -p /tmp/pii_before && git archive HEAD callcenterai/pii | tar -x -C /tmp/pii_before
  .venv/bin/python benchmarks/scrub_adversarial.py --baseline /tmp/pii_before/callcenterai/pii
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from callcenterai.pii.scrubber import Scrubber  # noqa: E402
from tests.pii.adversarial import SIZE_LIMIT, adversarial_corpus  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "pii_tickets.jsonl"
TEST_SPLIT = ROOT / "data" / "processed" / "test.csv"
TYPICAL_TICKETS = 2000


def baseline_scrubber(folder: Path):
    """The Scrubber of the modules in ``folder``, imported as the package ``pii_baseline``."""
    package = Path(tempfile.mkdtemp()) / "pii_baseline"
    package.mkdir()
    for module in folder.glob("*.py"):
        source = module.read_text(encoding="utf-8")
        source = source.replace("from callcenterai.pii import", "from pii_baseline import")
        (package / module.name).write_text(
            source.replace("callcenterai.pii.", "pii_baseline."), encoding="utf-8"
        )
    sys.path.insert(0, str(package.parent))
    return importlib.import_module("pii_baseline.scrubber").Scrubber()


def seconds_to_scrub(scrubber, text: str) -> float:
    started = time.perf_counter()
    scrubber.scrub(text)
    return time.perf_counter() - started


def timings(scrubbers: dict, texts: list[str], repeat: int) -> dict[str, list[list[float]]]:
    """Per scrubber, per text, ``repeat`` times in seconds; the scrubbers take turns on each text."""
    found: dict[str, list[list[float]]] = {name: [[] for _ in texts] for name in scrubbers}
    for _ in range(repeat):
        for index, text in enumerate(texts):
            for name, scrubber in scrubbers.items():
                found[name][index].append(seconds_to_scrub(scrubber, text))
    return found


def typical_texts() -> dict[str, list[str]]:
    split = pd.read_csv(TEST_SPLIT, dtype=str, keep_default_na=False)
    sample = split.sample(n=min(TYPICAL_TICKETS, len(split)), random_state=3)["text"].tolist()
    fixture = [json.loads(line)["text"] for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return {f"test split ({len(sample)})": sample, f"fixture ({len(fixture)})": fixture}


def report_crafted(scrubbers: dict, repeat: int, show: int) -> None:
    corpus = adversarial_corpus()
    runs = timings(scrubbers, list(corpus.values()), repeat)
    print(f"\n{len(corpus)} crafted tickets of {SIZE_LIMIT:,} characters, scrubbed {repeat} times each\n")
    for name, per_text in runs.items():
        medians = {shape: statistics.median(times) for shape, times in zip(corpus, per_text)}
        fastest = {shape: min(times) for shape, times in zip(corpus, per_text)}
        print(f"{name}:\n\n| shape | median ms | fastest ms |\n|---|---|---|")
        for shape in sorted(medians, key=medians.__getitem__, reverse=True)[:show]:
            print(f"| {shape} | {medians[shape] * 1e3:.1f} | {fastest[shape] * 1e3:.1f} |")
        worst = max(medians, key=medians.__getitem__)
        print(
            f"\nworst case: {medians[worst] * 1e3:.1f} ms median, {max(fastest.values()) * 1e3:.1f} ms "
            f"fastest ({worst}); all shapes: {sum(medians.values()):.2f} s\n"
        )


def report_typical(scrubbers: dict, repeat: int) -> None:
    print("| ordinary tickets | code | p50 µs | p99 µs | mean µs |\n|---|---|---|---|---|")
    for label, texts in typical_texts().items():
        for name, per_text in timings(scrubbers, texts, repeat).items():
            times = np.array(per_text).ravel() * 1e6
            p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
            print(f"| {label} | {name} | {p50:.1f} | {p99:.1f} | {times.mean():.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, help="a folder of callcenterai.pii modules to compare with")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each crafted ticket")
    parser.add_argument("--show", type=int, default=8, help="how many of the slowest shapes to list")
    args = parser.parse_args()
    scrubbers = {"current": Scrubber()}
    if args.baseline:
        scrubbers = {"baseline": baseline_scrubber(args.baseline.resolve()), **scrubbers}
    for scrubber in scrubbers.values():
        scrubber.scrub("warm up: mail a@b.com, call +44 20 7946 0958, password=x1")
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    report_crafted(scrubbers, args.repeat, args.show)
    report_typical(scrubbers, repeat=3)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
