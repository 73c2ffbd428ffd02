"""TF-IDF variants chosen the honest way: 5-fold cross-validation on the train split.

  .venv/bin/python benchmarks/tfidf_cv.py

``tfidf_variants.py`` scores each variant on the one committed test split, where
a difference of 0.004 is one standard error. This script asks which variant a
selection made without the test split would pick, and reports the test score
beside it. Three tables:

1. the calibrated pipeline (``build_pipeline``) with a few param changes, with and
   without dividing the probabilities by the class prior^0.2, and a calibrated
   character n-gram model alone and averaged with it;
2. other linear families, uncalibrated (argmax of the decision function): plain
   one-vs-rest LinearSVC as the reference, Crammer-Singer multi-class SVM, NBSVM
   (Wang & Manning 2012: features scaled by each class's naive-Bayes log-count
   ratio), and a second TF-IDF block on the first five words (the subject line);
3. what the shared normalisation costs: the whole de-duplicated data set, 5-fold,
   normalised text against the raw text lower-cased, on the same rows.

Reads data/processed/{train,test}.csv and the raw CSV (run `dvc repro` first).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from callcenterai.config import TrainTfidfParams, load_section
from callcenterai.models.tfidf import build_pipeline
from callcenterai.text import normalize_many

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw" / "all_tickets_processed_improved_v3.csv"
FOLDS = 5
# params.yaml's train_tfidf section: the "committed params" every variant changes.
COMMITTED = load_section("train_tfidf", TrainTfidfParams)

# A scorer takes (train frame, scoring frame) with columns text/label and returns
# one (accuracy, macro-F1) pair per output it reports.
Scorer = Callable[[pd.DataFrame, pd.DataFrame], list[tuple[float, float]]]


def scores(truth, predicted) -> tuple[float, float]:
    return accuracy_score(truth, predicted), f1_score(truth, predicted, average="macro")


def cross_validate(scorer: Scorer, data: pd.DataFrame) -> np.ndarray:
    """Fold results, shape (folds, outputs, 2); two folds at a time on two cores."""
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(data, data.label)
    results = Parallel(n_jobs=2)(delayed(scorer)(data.iloc[a], data.iloc[b]) for a, b in folds)
    return np.asarray(results)


def committed_with(**changes) -> TrainTfidfParams:
    return TrainTfidfParams(**{**COMMITTED.model_dump(), **changes})


def calibrated(params: dict) -> Scorer:
    def scorer(train: pd.DataFrame, held_out: pd.DataFrame) -> list[tuple[float, float]]:
        model = build_pipeline(committed_with(**params)).fit(train.text.tolist(), train.label.tolist())
        proba = model.predict_proba(held_out.text.tolist())
        prior = train.label.value_counts(normalize=True)[list(model.classes_)].to_numpy()
        return [
            scores(held_out.label, model.classes_[proba.argmax(1)]),
            scores(held_out.label, model.classes_[(proba / prior**0.2).argmax(1)]),
        ]

    return scorer


def word_and_char_models(train: pd.DataFrame, held_out: pd.DataFrame) -> list[tuple[float, float]]:
    """A calibrated char_wb 2-5-gram model alone, and the mean of its and the word model's probabilities."""
    words = build_pipeline(COMMITTED).fit(train.text.tolist(), train.label.tolist())
    chars = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        CalibratedClassifierCV(LinearSVC(C=0.3, max_iter=5000), cv=5),
    ).fit(train.text.tolist(), train.label)
    word_proba = words.predict_proba(held_out.text.tolist())
    char_proba = chars.predict_proba(held_out.text.tolist())
    return [
        scores(held_out.label, words.classes_[proba.argmax(1)])
        for proba in (char_proba, (word_proba + char_proba) / 2)
    ]


def vectorize(train_texts, other_texts) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The committed word features, without the vectorizer's own normalisation: the
    processed splits are normalised already, and the normalisation table wants raw text."""
    vectorizer = clone(build_pipeline(COMMITTED).named_steps["tfidf"]).set_params(preprocessor=None)
    return vectorizer.fit_transform(train_texts), vectorizer.transform(other_texts)


def linear_svm(multi_class: str = "ovr", C: float = 0.5) -> Scorer:
    def scorer(train, held_out):
        x_train, x_held = vectorize(train.text, held_out.text)
        svm = LinearSVC(C=C, max_iter=5000, multi_class=multi_class).fit(x_train, train.label)
        return [scores(held_out.label, svm.predict(x_held))]

    return scorer


def nbsvm(C: float = 0.5, alpha: float = 1.0) -> Scorer:
    """One binary SVM per class on features scaled by that class's NB log-count ratio."""

    def scorer(train, held_out):
        x_train, x_held = vectorize(train.text, held_out.text)
        labels = train.label.to_numpy()
        classes = np.unique(labels)
        decisions = []
        for name in classes:
            mine = labels == name
            p = alpha + np.asarray(x_train[mine].sum(0)).ravel()
            q = alpha + np.asarray(x_train[~mine].sum(0)).ravel()
            ratio = sp.diags(np.log((p / p.sum()) / (q / q.sum())))
            svm = LinearSVC(C=C, max_iter=5000).fit(x_train @ ratio, mine)
            decisions.append(svm.decision_function(x_held @ ratio))
        return [scores(held_out.label, classes[np.argmax(decisions, axis=0)])]

    return scorer


def subject_block(words: int = 5, weight: float = 0.5) -> Scorer:
    """The body's TF-IDF plus a separate, down-weighted TF-IDF of the first words."""

    def first(texts: pd.Series) -> pd.Series:
        return texts.map(lambda text: " ".join(text.split()[:words]))

    def scorer(train, held_out):
        body_train, body_held = vectorize(train.text, held_out.text)
        head_train, head_held = vectorize(first(train.text), first(held_out.text))
        x_train = sp.hstack([body_train, weight * head_train]).tocsr()
        x_held = sp.hstack([body_held, weight * head_held]).tocsr()
        svm = LinearSVC(C=0.5, max_iter=5000).fit(x_train, train.label)
        return [scores(held_out.label, svm.predict(x_held))]

    return scorer


def cell(values: np.ndarray) -> str:
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f}"


def report(name: str, scorer: Scorer, train: pd.DataFrame, test: pd.DataFrame, suffixes: list[str]) -> None:
    """One table row per scorer output: CV on the train split, then the test split."""
    folds = cross_validate(scorer, train)
    on_test = scorer(train, test)
    for i, suffix in enumerate(suffixes):
        cv, (accuracy, macro) = folds[:, i, :], on_test[i]
        print(
            f"| {name}{suffix} | {cell(cv[:, 0])} | {cell(cv[:, 1])} | {accuracy:.4f} | {macro:.4f} |",
            flush=True,
        )


def normalisation_cost() -> None:
    """Same rows, same folds: the normalised text against the raw text lower-cased."""
    raw = pd.read_csv(RAW)
    normalised = pd.Series(normalize_many(raw.Document))
    # The rows the prepare stage keeps: non-empty and unique after normalisation.
    kept = (normalised != "") & ~normalised.duplicated(keep="first")
    for name, texts in [
        ("normalised (digits, 1-letter words dropped)", normalised),
        ("raw text, lower-cased", raw.Document.str.lower()),
    ]:
        data = pd.DataFrame({"text": texts[kept], "label": raw.Topic_group[kept]}).reset_index(drop=True)
        folds = cross_validate(linear_svm(), data)[:, 0, :]
        print(f"| {name} | {cell(folds[:, 0])} | {cell(folds[:, 1])} |", flush=True)


def main() -> None:
    train = pd.read_csv(ROOT / "data" / "processed" / "train.csv")
    test = pd.read_csv(ROOT / "data" / "processed" / "test.csv")
    started = time.perf_counter()
    header = "| variant | CV accuracy | CV macro-F1 | test accuracy | test macro-F1 |\n|---|---|---|---|---|"
    print("Calibrated pipeline (params.yaml train_tfidf, one change each)\n" + header)
    for name, params in [
        ("committed params", {}),
        ("C 0.35", {"C": 0.35}),
        ("C 0.7", {"C": 0.7}),
        ("min_df 1", {"min_df": 1}),
        ("C 0.35, min_df 1", {"C": 0.35, "min_df": 1}),
    ]:
        report(name, calibrated(params), train, test, ["", ", / prior^0.2"])
    report("char_wb 2-5-grams, C 0.3", word_and_char_models, train, test, ["", ", mean with the word model"])
    print("\nOther linear families, uncalibrated\n" + header)
    for name, scorer in [
        ("LinearSVC one-vs-rest C 0.5 (reference)", linear_svm()),
        ("LinearSVC Crammer-Singer C 0.5", linear_svm("crammer_singer")),
        ("NBSVM C 0.5", nbsvm()),
        ("+ TF-IDF of the first 5 words, weight 0.5", subject_block()),
    ]:
        report(name, scorer, train, test, [""])
    print("\nNormalisation cost (whole data set, 5-fold, LinearSVC C 0.5)")
    print("| text | CV accuracy | CV macro-F1 |\n|---|---|---|")
    normalisation_cost()
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
