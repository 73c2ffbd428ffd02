"""The drift checks on real tickets: a window drawn from the test split shows no drift, and each
window shifted on purpose is caught by the check meant for it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT
from callcenterai.monitoring.checks import CHECKS
from callcenterai.monitoring.features import predictions, tfidf_vocabulary
from callcenterai.monitoring.scoring import score_drift
from tests.monitoring.conftest import PARAMS, WINDOW_SIZE

NON_ENGLISH = PROJECT_ROOT / "tests" / "fixtures" / "non_english_tickets.csv"


@pytest.fixture(scope="module")
def score(reference, drift_model, detector):
    def scored(window: pd.DataFrame) -> dict:
        return score_drift(window, reference, drift_model, detector, PARAMS).run["checks"]

    return scored


def fired(checks: dict) -> set[str]:
    return {name for name, check in checks.items() if check["drifted"]}


def scores(checks: dict) -> str:
    return ", ".join(f"{name} {check['score']:.3f}/{check['threshold']:g}" for name, check in checks.items())


def answered(texts: list[str], model) -> pd.DataFrame:
    frame = pd.DataFrame({"text": texts})
    frame["label"], frame["confidence"] = predictions(model, texts)
    return frame


@pytest.mark.parametrize("seed", [1, 2])
def test_a_window_from_the_test_split_shows_no_drift(score, answered_test_split, seed):
    checks = score(answered_test_split.sample(n=WINDOW_SIZE, random_state=seed))
    assert set(checks) == set(CHECKS)
    assert fired(checks) == set(), scores(checks)


def test_one_label_tripled_is_caught_by_the_label_mix(score, answered_test_split):
    label = "Access"
    window = answered_test_split.sample(n=WINDOW_SIZE, random_state=3)
    chosen = window[window["label"] == label]
    # Twice as many more tickets of that label, from the rest of the test split (no copies).
    rest = answered_test_split.drop(window.index)
    extra = rest[rest["label"] == label].sample(n=2 * len(chosen), random_state=4)
    checks = score(pd.concat([window, extra]).sample(frac=1, random_state=5))
    assert checks["label_mix"]["drifted"], scores(checks)
    shares = {row["category"]: row for row in checks["label_mix"]["detail"]["shares"]}
    assert shares[label]["window"] > 2 * shares[label]["reference"]


def test_long_tickets_of_unseen_vocabulary_are_caught_by_length_and_unknown_words(
    score, answered_test_split, drift_model
):
    vocabulary = tfidf_vocabulary(drift_model)
    # Real words of the test split that the model never learnt (rare terms, names, typos).
    unseen = sorted({w for text in answered_test_split["text"] for w in text.split()} - vocabulary)
    assert len(unseen) > 500
    rng = np.random.default_rng(6)
    base = answered_test_split.sample(n=WINDOW_SIZE, random_state=6)["text"].tolist()
    texts = [f"{text} {' '.join(rng.choice(unseen, size=3 * len(text.split()) + 20))}" for text in base]
    checks = score(answered(texts, drift_model))
    assert {"text_length", "unknown_words"} <= fired(checks), scores(checks)
    assert checks["unknown_words"]["detail"]["window_share"] > 0.5


def test_non_english_tickets_are_caught_by_the_language_mix(score, answered_test_split, drift_model):
    foreign = pd.read_csv(NON_ENGLISH)
    assert set(foreign["language"]) == {"fr", "de", "es"}
    english = answered_test_split.sample(n=WINDOW_SIZE - len(foreign), random_state=7)
    window = pd.concat([english, answered(foreign["text"].tolist(), drift_model)]).sample(
        frac=1, random_state=8
    )
    checks = score(window)
    assert checks["language_mix"]["drifted"], scores(checks)
    shares = {row["category"]: row["window"] for row in checks["language_mix"]["detail"]["shares"]}
    assert all(shares.get(code, 0) > 0.01 for code in ("fr", "de", "es")), shares


def test_the_tickets_the_model_is_least_sure_of_are_caught_by_the_confidence(score, answered_test_split):
    unsure = answered_test_split.nsmallest(WINDOW_SIZE, "confidence")
    checks = score(unsure)
    assert checks["confidence"]["drifted"], scores(checks)
    detail = checks["confidence"]["detail"]
    assert detail["window"]["mean"] < detail["reference"]["mean"]
