"""The C kernel behind CompiledTfidf: same numbers as scikit-learn, clear errors on bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from callcenterai.config import TrainTfidfParams
from callcenterai.models import tfidf_compiled
from callcenterai.models.tfidf import build_pipeline, compile_pipeline

native = tfidf_compiled._tfidf_native
needs_kernel = pytest.mark.skipif(native is None, reason="the C kernel is not built; see the test above")


def test_the_kernel_is_built():
    # setup.py marks the extension optional so an install without gcc still works;
    # where the tests run (CI, dev machines) it must have been built, or this fails.
    assert native is not None, "callcenterai/models/_tfidf_native.c was not compiled: pip install -e ."


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"sublinear_tf": False, "ngram_range": [1, 1]},
        {"ngram_range": [1, 3], "calibration_folds": 2},
        {"ngram_range": [2, 2]},
    ],
    ids=["defaults", "raw-tf-unigrams", "trigrams", "bigrams-only"],
)
@needs_kernel
def test_kernel_equals_the_fitted_pipeline(sample_frame, overrides):
    params = TrainTfidfParams(**{"min_df": 1, "calibration_folds": 3, **overrides})
    pipeline = build_pipeline(params)
    pipeline.fit(sample_frame.Document.tolist(), sample_frame.Topic_group.tolist())
    texts = sample_frame.Document.tolist()[::3] + [
        "My LAPTOP won't boot!!! ticket #4411",
        "café réseau imprimante",  # accents: normalised in Python before the kernel
        "zzzz qqqq",  # no known term
        "",
        "a I",  # only one-letter words
        "password " * 500,  # one term many times
    ]
    compiled = compile_pipeline(pipeline)
    assert compiled.backend == "native"
    expected = pipeline.predict_proba(texts)
    assert np.abs(compiled.predict_proba(texts) - expected).max() < 1e-9
    one_by_one = np.vstack([compiled.predict_one(t) for t in texts])
    assert np.abs(one_by_one - expected).max() < 1e-9
    python_form = compile_pipeline(pipeline, native=False)
    assert python_form.backend == "python"
    assert np.abs(python_form.predict_proba(texts) - expected).max() < 1e-9


def test_isotonic_calibration_stays_on_the_python_form(sample_frame):
    pipeline = build_pipeline(TrainTfidfParams(calibration_method="isotonic", calibration_folds=3, min_df=1))
    pipeline.fit(sample_frame.Document.tolist(), sample_frame.Topic_group.tolist())
    assert compile_pipeline(pipeline).backend == "python"


@needs_kernel
def test_a_fold_whose_calibrators_all_say_zero_falls_back_to_uniform(sample_frame):
    pipeline = build_pipeline(TrainTfidfParams(calibration_folds=2, min_df=1))
    pipeline.fit(sample_frame.Document.tolist(), sample_frame.Topic_group.tolist())
    compiled = compile_pipeline(pipeline)
    # Push every calibrator to exactly 0 (the kernel reads these arrays in place).
    compiled._b += 1e6
    compiled._scaled_bias += 1e6
    n = len(compiled.classes)
    out = np.empty(n)
    assert compiled._native.score("password reset", out) is False
    assert np.allclose(compiled.predict_one("password reset"), 1.0 / n)
    assert np.allclose(compiled.predict_proba(["password reset", "laptop"]), 1.0 / n)


def _toy(**changes):
    arguments = {
        "terms": [b"aa", b"bb", b"aa bb"],
        "columns": [0, 1, 2],
        "idf": np.ones(3),
        "weights": np.zeros((3, 4)),
        "bias": np.zeros(4),
        "n_folds": 2,
        "sublinear": True,
        "ngram_low": 1,
        "ngram_high": 2,
    }
    arguments.update(changes)
    return native.Scorer(**arguments)


@needs_kernel
def test_kernel_scores_a_hand_computed_example():
    weights = np.zeros((3, 4))
    weights[2] = [1.0, -1.0, 0.0, 0.0]  # only the bigram "aa bb" moves fold 0
    scorer = _toy(weights=weights)
    out = np.empty(2)
    assert scorer.score("aa bb", out) is True
    # x = (1,1,1)/sqrt(3); fold 0: expit(-x.w) for w=(+1,-1)/sqrt(3); fold 1: 0.5, 0.5
    s0, s1 = 1 / (1 + np.exp(1 / np.sqrt(3))), 1 / (1 + np.exp(-1 / np.sqrt(3)))
    expected = (np.array([s0, s1]) / (s0 + s1) + 0.5) / 2
    assert np.allclose(out, expected, atol=1e-15)


@needs_kernel
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"weights": np.zeros((3, 4), dtype=np.float32)}, "weights must be a contiguous float64"),
        ({"weights": np.zeros((3, 3))}, "weights must be a contiguous float64"),
        ({"idf": np.ones(3, dtype=np.int64)}, "idf must be a contiguous float64"),
        ({"columns": [0, 1, 7]}, "column 7 is outside the 3 features"),
        ({"columns": [0, 1]}, "terms and columns differ"),
        ({"terms": ["aa", "bb", "aa bb"]}, "terms must be bytes"),
        ({"bias": np.zeros(3), "weights": np.zeros((3, 3))}, "not a whole number of folds"),
    ],
)
def test_kernel_names_a_bad_argument(changes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _toy(**changes)


@needs_kernel
def test_kernel_refuses_an_output_of_the_wrong_size():
    with pytest.raises(ValueError, match="out must hold 2 float64 values"):
        _toy().score("aa", np.empty(3))
    with pytest.raises(ValueError, match="out must hold 2 float64 values"):
        _toy().score("aa", np.empty(4, dtype=np.float32))  # the right bytes, the wrong type


@needs_kernel
def test_kernel_refuses_to_score_or_initialise_twice_instead_of_crashing():
    bare = native.Scorer.__new__(native.Scorer)
    with pytest.raises(RuntimeError, match="not initialised"):
        bare.score("aa", np.empty(2))
    scorer = _toy()
    with pytest.raises(RuntimeError, match="already initialised"):
        scorer.__init__([b"aa"], [0], np.ones(1), np.zeros((1, 4)), np.zeros(4), 2, True, 1, 1)
    assert scorer.score("aa bb", np.empty(2)) is True
