"""The TF-IDF model trained on the real tickets: quality floor, exact fast path, behaviour."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from callcenterai.config import TrainTfidfParams
from callcenterai.models.tfidf import PIPELINE_FILE, build_pipeline, compile_pipeline, load_pipeline

# Regression floor, below the 0.865 bar which this model does not reach on
# this split (see docs/benchmarks.md): a drop under it means something broke.
FLOOR = 0.85


def test_quality_on_the_real_test_split(full_project):
    metrics = json.loads((full_project / "evaluation" / "metrics.json").read_text())["tfidf"]
    assert metrics["rows"] > 8000
    assert metrics["accuracy"] >= FLOOR and metrics["macro_f1"] >= FLOOR
    assert metrics["ece"] < 0.06  # calibrated: confidence tracks accuracy
    assert metrics["coverage_at_target_accuracy"] > 0.5


@pytest.mark.parametrize("native", [True, False], ids=["c-kernel", "python"])
def test_compiled_form_equals_the_pipeline_on_the_whole_test_split(full_project, full_test_split, native):
    texts = full_test_split.text.tolist()
    pipeline = load_pipeline(full_project / "models" / "tfidf" / PIPELINE_FILE)
    expected = pipeline.predict_proba(texts)
    compiled = compile_pipeline(pipeline, native=native)
    assert compiled.backend == ("native" if native else "python")
    assert np.abs(compiled.predict_proba(texts) - expected).max() < 1e-6
    one_by_one = np.vstack([compiled.predict_one(t) for t in texts])
    assert np.abs(one_by_one - expected).max() < 1e-6


def test_the_served_predictor_uses_the_c_kernel(full_model):
    assert full_model.predictor.backend == "compiled TF-IDF, native kernel"


def test_compiled_isotonic_form_equals_the_pipeline(sample_frame):
    pipeline = build_pipeline(TrainTfidfParams(calibration_method="isotonic", calibration_folds=3, min_df=1))
    pipeline.fit(sample_frame.Document.tolist(), sample_frame.Topic_group.tolist())
    texts = sample_frame.Document.tolist() + ["unseen words only zzzz", ""]
    got = compile_pipeline(pipeline).predict_proba(texts)
    assert np.abs(got - pipeline.predict_proba(texts)).max() < 1e-6


def _perturb(text: str, seed: int) -> str:
    """Change only case, punctuation, digits and spacing."""
    rng = np.random.default_rng(seed)
    words = []
    for word in text.split():
        word = word.upper() if rng.random() < 0.3 else word.capitalize() if rng.random() < 0.3 else word
        word += rng.choice(["", "", "!!", ",", "?", str(rng.integers(0, 99))])
        words.append(word)
    return "#4411 " + (" " * int(rng.integers(1, 4))).join(words) + " ... 2024!!\t"


@pytest.mark.parametrize("seed", [0, 1])
def test_label_is_invariant_to_case_punctuation_digits_and_spaces(full_model, full_test_split, seed):
    texts = full_test_split.text.sample(300, random_state=seed).tolist()
    noisy = [_perturb(t, seed) for t in texts]
    assert all(a != b for a, b in zip(noisy, texts))
    clean_proba = full_model.predictor.predict_proba(texts)
    noisy_proba = full_model.predictor.predict_proba(noisy)
    assert (clean_proba.argmax(1) == noisy_proba.argmax(1)).all()
    assert np.abs(clean_proba - noisy_proba).max() < 1e-12


def test_raw_and_clean_forms_of_a_ticket_get_the_same_probabilities(full_model):
    proba = full_model.predictor.predict_proba(
        ["My LAPTOP won't boot!!! ticket #4411", "my laptop won boot ticket"]
    )
    assert np.abs(proba[0] - proba[1]).max() < 1e-12


UNAMBIGUOUS = {
    "Access": [
        "reset my password i cannot log in to my account",
        "please create git repository access for new user",
    ],
    "Administrative rights": [
        "upgrade windows and install software from software center",
        "outlook version update needs install rights",
    ],
    "Hardware": ["my laptop screen is broken", "keyboard and mouse stopped working"],
    "HR Support": ["new starter timecard hours in oracle", "question about annual leave balance"],
    "Internal Project": ["new project codes for pipeline forecast", "setup pipeline for new project code"],
    "Miscellaneous": [
        "please approve the change ticket approval for group owner",
        "change approval needed from owner",
    ],
    "Purchase": [
        "purchase order for new monitors please approve the quote",
        "po receipt for purchased items",
    ],
    "Storage": ["shared drive is full need more disk space quota", "increase mailbox storage quota"],
}


@pytest.mark.parametrize("label", sorted(UNAMBIGUOUS))
def test_minimum_functionality_unambiguous_tickets(full_model, label):
    labels = full_model.predictor.labels
    proba = full_model.predictor.predict_proba(UNAMBIGUOUS[label])
    assert [labels[i] for i in proba.argmax(1)] == [label] * len(UNAMBIGUOUS[label])


@pytest.mark.parametrize(
    "base, extra, label",
    [
        ("need help with my request", "purchase order", "Purchase"),
        ("need help with my request", "laptop monitor", "Hardware"),
        ("need help with my request", "mailbox storage full", "Storage"),
    ],
)
def test_direction_adding_class_words_raises_that_class(full_model, base, extra, label):
    index = full_model.predictor.labels.index(label)
    before, after = full_model.predictor.predict_proba([base, f"{base} {extra}"])[:, index]
    assert after > before


def test_probabilities_cover_every_label_and_sum_to_one(full_model, full_test_split):
    proba = full_model.predictor.predict_proba(full_test_split.text.head(1000).tolist())
    assert proba.shape == (1000, 8)
    assert np.allclose(proba.sum(1), 1.0) and (proba >= 0).all()
    assert len(set(full_model.predictor.labels)) == 8
    assert all(re.fullmatch(r"[A-Za-z ]+", label) for label in full_model.predictor.labels)
