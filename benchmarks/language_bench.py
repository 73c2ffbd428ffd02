"""The language detector on English tickets: how often it is wrong, and its cost per ticket.

  .venv/bin/python benchmarks/language_bench.py

py3langid restricted to the fit_routing languages (params.yaml), on 2,000 raw tickets
(lower case, as published) and 3,000 test tickets: tickets placed in another language
with and without the probability threshold, and microseconds per ticket on the whole
text against the first 200 characters (what the agent reads).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from callcenterai.config import load_section  # noqa: E402
from callcenterai.routing.language import SAMPLE_CHARS, LanguageDetector  # noqa: E402
from callcenterai.routing.params import FitRoutingParams  # noqa: E402

RAW = ROOT.parent / "shared" / "data" / "all_tickets_processed_improved_v3.csv"


def main() -> None:
    params = load_section("fit_routing", FitRoutingParams)
    detector = LanguageDetector(params.languages, params.language_min_probability, params.language_min_words)
    raw = (
        pd.read_csv(RAW, dtype=str, keep_default_na=False).sample(n=2000, random_state=1)["Document"].tolist()
    )
    results = [detector.identifier.classify(t.lower()[:SAMPLE_CHARS]) for t in raw]
    other = sum(code != "en" for code, _ in results)
    sure = sum(not detector.detect(t).english for t in raw)
    threshold = f"probability >= {params.language_min_probability} and >= {params.language_min_words} words"
    print(f"2,000 raw tickets: {other} placed in another language by the top guess, {sure} with {threshold}")
    test_split = pd.read_csv(ROOT / "data/processed/test.csv", dtype=str, keep_default_na=False)
    test = test_split.text.tolist()[:3000]
    for name, cut in (("whole text", None), (f"first {SAMPLE_CHARS} characters", SAMPLE_CHARS)):
        started = time.perf_counter()
        for text in test:
            detector.identifier.classify(text if cut is None else text[:cut])
        per_ticket = (time.perf_counter() - started) / len(test) * 1e6
        print(f"{name}: {per_ticket:.0f} µs per ticket (3,000 test tickets)")


if __name__ == "__main__":
    main()
