"""The TF-IDF + calibrated LinearSVC classifier, and its fast compiled form.

``CalibratedClassifierCV.predict_proba`` walks one LinearSVC and one calibrator
per fold and class through scikit-learn's input checks: 10 to 15 ms for a single
ticket. ``CompiledTfidf`` holds the same numbers as plain arrays (all fold
weights stacked into one matrix) and gives the same probabilities to 1e-6 in
tens of microseconds. The fitted pipeline stays the source of truth: the
compiled form is derived from it at load time and checked against it in tests.

Where the package was built with a C compiler, a small native kernel
(``_tfidf_native.c``) scores normalised text in one call; the pure-Python form
below gives the same numbers where it was not.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from callcenterai.config import TrainTfidfParams
from callcenterai.text import as_text_list, normalize_text

try:
    from callcenterai.models import _tfidf_native
except ImportError:  # built without a C compiler: the pure-Python form serves
    _tfidf_native = None


def build_pipeline(params: TrainTfidfParams) -> Pipeline:
    """The vectorizer normalises raw text itself, so the saved model accepts raw tickets."""
    vectorizer = TfidfVectorizer(
        preprocessor=normalize_text,
        ngram_range=tuple(params.ngram_range),
        min_df=params.min_df,
        max_df=params.max_df,
        max_features=params.max_features,
        sublinear_tf=params.sublinear_tf,
        dtype=np.float64,
    )
    svm = LinearSVC(
        C=params.C,
        class_weight=params.class_weight,
        max_iter=params.max_iter,
        random_state=params.random_state,
    )
    calibrated = CalibratedClassifierCV(svm, method=params.calibration_method, cv=params.calibration_folds)
    # The first step lets the saved model take a DataFrame (MLflow pyfunc) as well as a list.
    texts = FunctionTransformer(as_text_list, validate=False)
    return Pipeline([("texts", texts), ("tfidf", vectorizer), ("clf", calibrated)])


class CompiledTfidf:
    """Array form of a fitted TF-IDF + CalibratedClassifierCV(LinearSVC) pipeline."""

    def __init__(self, pipeline: Pipeline, native: bool = True):
        vectorizer: TfidfVectorizer = pipeline.named_steps["tfidf"]
        calibrated: CalibratedClassifierCV = pipeline.named_steps["clf"]
        self.classes = tuple(str(c) for c in calibrated.classes_)
        n_classes = len(self.classes)
        if n_classes < 3:
            raise ValueError("the compiled form supports three or more classes")
        if vectorizer.norm != "l2" or not vectorizer.use_idf:
            raise ValueError("the compiled form expects l2 norm and idf weighting")
        self._analyze = vectorizer.build_analyzer()
        self._ngram_range = tuple(vectorizer.ngram_range)
        self._fast_tokens = (
            vectorizer.analyzer == "word"
            and vectorizer.preprocessor is normalize_text
            and vectorizer.tokenizer is None
            and vectorizer.stop_words is None
            and vectorizer.token_pattern == r"(?u)\b\w\w+\b"
        )
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_.astype(np.float64)
        self._sublinear = vectorizer.sublinear_tf
        self._n_features = len(self._idf)
        folds = calibrated.calibrated_classifiers_
        self.method = calibrated.method
        # Columns: fold-major, then class in calibrated.classes_ order.
        coefs, intercepts = [], []
        for fold in folds:
            order = np.searchsorted(calibrated.classes_, fold.estimator.classes_)
            if not np.array_equal(order, np.arange(n_classes)):
                raise ValueError("a calibration fold is missing a class")
            coefs.append(fold.estimator.coef_)
            intercepts.append(fold.estimator.intercept_)
        self._weights = np.ascontiguousarray(np.vstack(coefs).T)  # (features, folds*classes)
        self._bias = np.concatenate(intercepts)
        self._n_folds = len(folds)
        if self.method == "sigmoid":
            self._a = np.array([c.a_ for f in folds for c in f.calibrators])
            self._b = np.array([c.b_ for f in folds for c in f.calibrators])
            self._scaled_weights = np.ascontiguousarray(self._weights * self._a)
            self._scaled_bias = self._bias * self._a + self._b
        elif self.method == "isotonic":
            self._isotonic = [(c.X_thresholds_, c.y_thresholds_) for f in folds for c in f.calibrators]
        else:
            raise ValueError(f"calibration method {self.method!r} is not supported")
        self._native = self._native_scorer() if native else None

    @property
    def backend(self) -> str:
        """Which scorer runs: "native" (the C kernel) or "python"; the numbers are the same."""
        return "python" if self._native is None else "native"

    def _native_scorer(self):
        # The kernel splits normalize_text's output on spaces and handles sigmoid calibration only.
        if _tfidf_native is None or not self._fast_tokens or self.method != "sigmoid":
            return None
        terms = list(self._vocabulary)
        return _tfidf_native.Scorer(
            [term.encode() for term in terms],
            [int(self._vocabulary[term]) for term in terms],
            self._idf,
            self._scaled_weights,
            self._scaled_bias,
            self._n_folds,
            bool(self._sublinear),
            *self._ngram_range,
        )

    def _tokens(self, text: str) -> list[str]:
        if not self._fast_tokens:
            return self._analyze(text)
        # normalize_text leaves single-spaced [a-z]{2,} words, so the vectorizer's
        # token regex reduces to split(); n-grams are joined the way sklearn does.
        words = normalize_text(text).split()
        low, high = self._ngram_range
        grams = words if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams = grams + list(map(" ".join, zip(*(words[i:] for i in range(n)))))
        return grams

    def _counts(self, text: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for column in map(self._vocabulary.get, self._tokens(text)):
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        return counts

    def _weigh(self, values: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Raw counts to tf-idf weights, in place (row normalisation is the caller's)."""
        if self._sublinear:
            np.log(values, out=values)
            values += 1.0
        values *= self._idf[index]
        return values

    def _row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = self._counts(text)
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0)
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = self._weigh(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)), index)
        norm = math.sqrt(float(values @ values))
        if norm > 0:
            values /= norm
        return index, values

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows equal to the vectorizer's (to rounding), built with whole-batch array calls."""
        columns: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            row = self._counts(text)
            columns.extend(row.keys())
            counts.extend(row.values())
            indptr.append(len(columns))
        index = np.array(columns, dtype=np.intp)
        values = self._weigh(np.array(counts, dtype=np.float64), index)
        bounds = np.array(indptr, dtype=np.intp)
        squares = np.concatenate([[0.0], np.cumsum(values * values)])
        norms = np.sqrt(squares[bounds[1:]] - squares[bounds[:-1]])
        lengths = np.diff(bounds)
        scale = np.repeat(np.divide(1.0, norms, out=np.ones_like(norms), where=norms > 0), lengths)
        return sp.csr_matrix((values * scale, index, bounds), shape=(len(texts), self._n_features))

    def _decisions(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            # One ticket: a gather of a few dozen weight rows beats a sparse product.
            index, values = self._row(texts[0])
            return (values @ self._weights[index] + self._bias)[np.newaxis, :]
        return np.asarray(self.transform(texts) @ self._weights) + self._bias

    def _calibrate(self, decisions: np.ndarray) -> np.ndarray:
        if self.method == "sigmoid":
            return expit(-(self._a * decisions + self._b))
        columns = [np.interp(decisions[:, j], xs, ys) for j, (xs, ys) in enumerate(self._isotonic)]
        return np.column_stack(columns)

    def predict_one(self, text: str) -> np.ndarray:
        """One ticket's probabilities: the same numbers as ``predict_proba`` with fewer array calls.

        A single request is nothing but small arrays, where each numpy call costs
        microseconds, so the sigmoid path uses weights pre-multiplied by the
        calibrators' slopes (a*(x.w + c) + b == x.(a*w) + (a*c + b)).
        """
        if self._native is not None:
            proba = np.empty(len(self.classes))
            if self._native.score(normalize_text(text), proba):
                return proba
            return self._reference_proba([text])[0]
        if self.method != "sigmoid":
            return self.predict_proba([text])[0]
        index, values = self._row(text)
        logits = values @ self._scaled_weights[index] if len(index) else np.zeros_like(self._bias)
        logits += self._scaled_bias
        scores = expit(-logits).reshape(self._n_folds, -1)
        totals = scores.sum(axis=1)
        if not totals.all():  # every calibrator said 0: sklearn's uniform fallback
            return self._reference_proba([text])[0]
        proba = (1.0 / totals) @ scores
        proba /= self._n_folds
        if proba.max() > 1.0:
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self._native is None:
            return self._reference_proba(texts)
        proba = np.empty((len(texts), len(self.classes)))
        refused = [
            i for i, text in enumerate(texts) if not self._native.score(normalize_text(text), proba[i])
        ]
        if refused:  # a fold whose calibrators all said 0: the array path's uniform fallback
            proba[refused] = self._reference_proba([texts[i] for i in refused])
        return proba

    def _reference_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The whole-batch array form (sparse product), which the kernel must match."""
        n_classes = len(self.classes)
        scores = self._calibrate(self._decisions(texts))
        scores = scores.reshape(len(texts), self._n_folds, n_classes)
        total = scores.sum(axis=2, keepdims=True)
        uniform = np.full_like(scores, 1.0 / n_classes)
        per_fold = np.divide(scores, total, out=uniform, where=total != 0)
        proba = per_fold.mean(axis=1)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba
