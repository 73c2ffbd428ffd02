"""What dropping stop words cost: text normalisation version 1 against version 2.

  .venv/bin/python -m benchmarks.normalisation_cv

Version 1 of ``normalize_text`` also dropped English stop words; version 2 (the
code now) keeps them. Both are scored with the calibrated TF-IDF pipeline of
params.yaml's train_tfidf section on the same rows: the raw tickets that are
non-empty and unique under version 1 (unique under version 1 implies unique
under version 2, which only keeps more words).

1. 5-fold cross-validation over those rows, with the per-fold paired difference;
2. the split ``prepare`` draws from them (params.yaml's prepare section), so the
   only change is the text.

The split ``prepare`` draws under version 2 differs a little (rows that only
stop words told apart are no longer merged), so its test score, in
``dvc metrics show``, is a third number and not this table's.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from benchmarks.tfidf_cv import RAW, calibrated, cell, cross_validate
from callcenterai.config import PrepareParams, load_section
from callcenterai.text import normalize_many

# The stop words version 1 dropped, kept here only to measure against.
VERSION_1_STOP_WORDS = frozenset("""
    a about above after again against all am an and any are aren as at be because
    been before being below between both but by can couldn could did didn do does
    doesn doing don down during each few for from further had hadn has hasn have
    haven having he her here hers herself him himself his how i if in into is isn it
    its itself just ll me mightn more most mustn my myself needn no nor not now of
    off on once only or other our ours ourselves out over own re s same shan she
    should shouldn so some such t than that the their theirs them themselves then
    there these they this those through to too under until up ve very was wasn we
    were weren what when where which while who whom why will with won wouldn y you
    your yours yourself yourselves
    """.split())


def version_1(texts: list[str]) -> list[str]:
    """Version 1 is version 2 without the stop words."""
    return [" ".join(w for w in text.split() if w not in VERSION_1_STOP_WORDS) for text in texts]


def main() -> None:
    started = time.perf_counter()
    raw = pd.read_csv(RAW)
    v2 = pd.Series(normalize_many(raw.Document))
    v1 = pd.Series(version_1(v2.tolist()))
    kept = (v1 != "") & ~v1.duplicated(keep="first")
    texts = {"version 1 (stop words dropped)": v1[kept], "version 2 (stop words kept)": v2[kept]}
    labels = raw.Topic_group[kept].reset_index(drop=True)
    scorer = calibrated({})
    print(f"{kept.sum()} rows, 5-fold CV, calibrated pipeline (params.yaml train_tfidf)\n")
    print("| normalisation | CV accuracy | CV macro-F1 |\n|---|---|---|")
    folds = {}
    for name, text in texts.items():
        data = pd.DataFrame({"text": text.reset_index(drop=True), "label": labels})
        folds[name] = cross_validate(scorer, data)[:, 0, :]
        print(f"| {name} | {cell(folds[name][:, 0])} | {cell(folds[name][:, 1])} |", flush=True)
    gain = np.subtract(*reversed(list(folds.values())))
    print(f"| paired gain of version 2, per fold | {cell(gain[:, 0])} | {cell(gain[:, 1])} |")

    params = load_section("prepare", PrepareParams)
    index = np.arange(len(labels))
    train, test = train_test_split(
        index, test_size=params.test_size, random_state=params.random_state, stratify=labels
    )
    print(f"\nprepare's split of the same rows ({len(train)} train / {len(test)} test)\n")
    print("| normalisation | test accuracy | test macro-F1 |\n|---|---|---|")
    for name, text in texts.items():
        data = pd.DataFrame({"text": text.reset_index(drop=True), "label": labels})
        (accuracy, macro), _ = scorer(data.iloc[train], data.iloc[test])
        print(f"| {name} | {accuracy:.4f} | {macro:.4f} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
