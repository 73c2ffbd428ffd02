"""TF-IDF variants tried against the quality bar, scored on the committed split.

  .venv/bin/python benchmarks/tfidf_variants.py

Reads data/processed/{train,test}.csv (run `dvc repro` first). The test split is
only read to report; no variant is adopted on the strength of one split.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from callcenterai.config import PrepareParams, TrainTfidfParams, load_section
from callcenterai.data import prepare_tickets
from callcenterai.models.tfidf import build_pipeline

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw" / "all_tickets_processed_improved_v3.csv"


def fit(train: pd.DataFrame, **changes):
    """The pipeline with params.yaml's train_tfidf section, changed by ``changes``."""
    committed = load_section("train_tfidf", TrainTfidfParams)
    pipeline = build_pipeline(TrainTfidfParams(**{**committed.model_dump(), **changes}))
    return pipeline.fit(train.text.tolist(), train.label.tolist())


def row(name: str, classes, proba: np.ndarray, truth) -> str:
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    accuracy = accuracy_score(truth, predicted)
    macro = f1_score(truth, predicted, average="macro")
    return f"| {name} | {accuracy:.4f} | {macro:.4f} |"


def other_families(train: pd.DataFrame, texts, truth, base) -> list[str]:
    """Character n-grams, logistic regression, and training without the rows that
    5-fold predictions call mislabelled (a form of confident learning)."""
    rows = []
    words = base.named_steps["tfidf"]
    chars = TfidfVectorizer(
        preprocessor=words.preprocessor, analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
    )
    union = make_pipeline(
        FeatureUnion([("words", clone(words)), ("chars", chars)]),
        CalibratedClassifierCV(LinearSVC(C=0.3, max_iter=5000, random_state=42), cv=5),
    ).fit(train.text.tolist(), train.label)
    rows.append(
        row("word 1-2-grams + char_wb 2-5-grams, C 0.3", union.classes_, union.predict_proba(texts), truth)
    )
    logistic = make_pipeline(clone(words), LogisticRegression(C=20, max_iter=2000))
    logistic.fit(train.text.tolist(), train.label)
    rows.append(row("logistic regression C 20", logistic.classes_, logistic.predict_proba(texts), truth))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    labels = train.label.to_numpy()
    held_out = cross_val_predict(clone(base), train.text.tolist(), labels, cv=folds, method="predict_proba")
    given = held_out[np.arange(len(labels)), np.searchsorted(base.classes_, labels)]
    for threshold in (0.02, 0.1):
        kept = train[given >= threshold]
        model = fit(kept)
        name = f"without the {len(train) - len(kept)} rows whose held-out p(label) < {threshold}"
        rows.append(row(name, model.classes_, model.predict_proba(texts), truth))
    return rows


def main() -> None:
    train = pd.read_csv(ROOT / "data" / "processed" / "train.csv")
    test = pd.read_csv(ROOT / "data" / "processed" / "test.csv")
    texts, truth = test.text.tolist(), test.label
    started = time.perf_counter()
    rows = []
    base = fit(train)
    classes, base_proba = base.classes_, base.predict_proba(texts)
    rows.append(row("committed params", classes, base_proba, truth))
    for name, params in [
        ("C 0.35", {"C": 0.35}),
        ("C 0.35, 10 calibration folds", {"C": 0.35, "calibration_folds": 10}),
        ("class_weight balanced", {"class_weight": "balanced"}),
        ("word 1-3-grams", {"ngram_range": (1, 3)}),
        ("isotonic calibration", {"calibration_method": "isotonic"}),
        ("min_df 1", {"min_df": 1}),
    ]:
        model = fit(train, **params)
        rows.append(row(name, model.classes_, model.predict_proba(texts), truth))
    vectorizer = base[:-1]
    nb = CalibratedClassifierCV(ComplementNB(alpha=0.1), cv=5)
    nb.fit(vectorizer.transform(train.text.tolist()), train.label)
    nb_proba = nb.predict_proba(vectorizer.transform(texts))
    rows.append(
        row(
            "calibrated SVM 0.8 + calibrated ComplementNB 0.2",
            classes,
            0.8 * base_proba + 0.2 * nb_proba,
            truth,
        )
    )
    prior = train.label.value_counts(normalize=True)[list(classes)].to_numpy()
    rows.append(row("calibrated SVM / class prior^0.2", classes, base_proba / prior**0.2, truth))
    rows += other_families(train, texts, truth, base)
    other = prepare_tickets(RAW, PrepareParams(random_state=1))
    model = fit(other.train)
    rows.append(
        row(
            "committed params, split random_state 1",
            model.classes_,
            model.predict_proba(other.test.text.tolist()),
            other.test.label,
        )
    )
    print("| variant | accuracy | macro-F1 |\n|---|---|---|")
    print("\n".join(rows))
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
