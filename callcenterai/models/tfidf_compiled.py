"""The compiled form of a TF-IDF model: the numbers alone, scored fast, loaded without code.

``CalibratedClassifierCV.predict_proba`` walks one LinearSVC and one calibrator
per fold and class through scikit-learn's input checks: 10 to 15 ms for a single
ticket. ``CompiledTfidf`` holds the same numbers as plain arrays (all fold
weights stacked into one matrix) and gives the same probabilities to 1e-6 in
tens of microseconds. The fitted pipeline stays the source of truth: the
compiled form is derived from it (``tfidf.compile_pipeline``) and checked
against it in tests. No scikit-learn here, so the service does not need it.

Where the package was built with a C compiler, a small native kernel
(``_tfidf_native.c``) scores normalised text in one call; the pure-Python form
below gives the same numbers where it was not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from callcenterai.config import check_ngram_range
from callcenterai.text import normalize_text

try:
    from callcenterai.models import _tfidf_native
except ImportError:  # built without a C compiler: the pure-Python form serves
    _tfidf_native = None

SERVED_ARRAYS = "compiled.npz"
SERVED_TERMS = "vocabulary.json"


@dataclass
class TfidfArrays:
    """Every number the compiled form scores with, and nothing that can run code.

    Saved as an ``.npz`` of plain numeric arrays (read with ``allow_pickle=False``)
    and a JSON file of terms and settings, so loading a served TF-IDF model never
    unpickles anything.
    """

    classes: tuple[str, ...]
    terms: list[str]  # in column order
    idf: np.ndarray
    weights: np.ndarray  # (features, folds * classes), fold-major
    bias: np.ndarray
    n_folds: int
    sublinear: bool
    ngram_range: tuple[int, int]
    method: str  # sigmoid or isotonic
    calibration: dict[str, np.ndarray]  # sigmoid: a, b; isotonic: x, y, offsets

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        np.savez(
            folder / SERVED_ARRAYS, idf=self.idf, weights=self.weights, bias=self.bias, **self.calibration
        )
        settings = {
            "classes": list(self.classes),
            "terms": self.terms,
            "n_folds": self.n_folds,
            "sublinear": self.sublinear,
            "ngram_range": list(self.ngram_range),
            "method": self.method,
        }
        (folder / SERVED_TERMS).write_text(json.dumps(settings), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "TfidfArrays":
        """Read a saved form; ``ValueError`` naming the file for anything malformed or unsafe."""
        folder = Path(folder)
        settings = json.loads((folder / SERVED_TERMS).read_text(encoding="utf-8"))
        try:
            with np.load(folder / SERVED_ARRAYS, allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in saved.files}
        except ValueError as exc:  # numpy's words for an object (pickled) array
            raise ValueError(f"{SERVED_ARRAYS} holds a pickled object array, refused ({exc})") from None
        for name, array in arrays.items():
            if array.dtype.kind not in "fiu":
                raise ValueError(f"{SERVED_ARRAYS}: array {name!r} has dtype {array.dtype}, not numeric")
        loaded = cls(
            classes=tuple(settings["classes"]),
            terms=list(settings["terms"]),
            idf=arrays.pop("idf"),
            weights=arrays.pop("weights"),
            bias=arrays.pop("bias"),
            n_folds=int(settings["n_folds"]),
            sublinear=bool(settings["sublinear"]),
            ngram_range=tuple(settings["ngram_range"]),
            method=str(settings["method"]),
            calibration=arrays,
        )
        loaded.check()
        return loaded

    def check(self) -> None:
        try:
            check_ngram_range(self.ngram_range)  # sizes the loop over every ticket's words
        except ValueError as exc:
            raise ValueError(f"{SERVED_TERMS}: {exc}") from None
        columns = self.n_folds * len(self.classes)
        if self.weights.shape != (len(self.terms), columns) or self.idf.shape != (len(self.terms),):
            raise ValueError(f"{SERVED_ARRAYS}: array shapes do not match {len(self.terms)} terms")
        if self.bias.shape != (columns,):
            raise ValueError(f"{SERVED_ARRAYS}: bias has shape {self.bias.shape}, expected ({columns},)")
        wanted = {"sigmoid": {"a", "b"}, "isotonic": {"x", "y", "offsets"}}.get(self.method)
        if wanted is None or set(self.calibration) != wanted:
            raise ValueError(
                f"{SERVED_ARRAYS}: calibration {self.method!r} with arrays {sorted(self.calibration)}"
            )


class CompiledTfidf:
    """Array form of a fitted TF-IDF + CalibratedClassifierCV(LinearSVC) pipeline."""

    def __init__(self, arrays: TfidfArrays, native: bool = True):
        self.arrays = arrays
        self.classes = arrays.classes
        self._ngram_range = arrays.ngram_range
        self._vocabulary = {term: column for column, term in enumerate(arrays.terms)}
        self._idf = arrays.idf
        self._sublinear = arrays.sublinear
        self._n_features = len(self._idf)
        self._weights = arrays.weights
        self._bias = arrays.bias
        self._n_folds = arrays.n_folds
        self.method = arrays.method
        if self.method == "sigmoid":
            self._a, self._b = arrays.calibration["a"], arrays.calibration["b"]
            self._scaled_weights = np.ascontiguousarray(self._weights * self._a)
            self._scaled_bias = self._bias * self._a + self._b
        else:
            x, y, offsets = (arrays.calibration[k] for k in ("x", "y", "offsets"))
            self._isotonic = [(x[lo:hi], y[lo:hi]) for lo, hi in zip(offsets[:-1], offsets[1:])]
        self._native = self._native_scorer() if native else None

    @classmethod
    def load(cls, folder: Path, native: bool = True) -> "CompiledTfidf":
        return cls(TfidfArrays.load(folder), native=native)

    @property
    def backend(self) -> str:
        """Which scorer runs: "native" (the C kernel) or "python"; the numbers are the same."""
        return "python" if self._native is None else "native"

    def _native_scorer(self):
        # The kernel splits normalize_text's output on spaces and handles sigmoid calibration only.
        if _tfidf_native is None or self.method != "sigmoid":
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
