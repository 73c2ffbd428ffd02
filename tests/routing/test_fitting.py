"""The routing fit on arrays whose answer is known, the policy file, the language detector."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from callcenterai.routing.fitting import (
    Routing,
    Scores,
    call_rate_curve,
    fit_routing,
    review_threshold,
    unflagged,
)
from callcenterai.routing.language import LanguageDetector
from callcenterai.routing.params import FitRoutingParams
from callcenterai.routing.policy import PolicyError, read_policy


def synthetic(n=400, seed=0) -> Scores:
    """TF-IDF right when sure, often wrong when unsure; the transformer right more often."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    sure = rng.random(n)
    tfidf = np.full((n, 3), 0.0)
    transformer = np.full((n, 3), 0.1)
    for i in range(n):
        tfidf_label = truth[i] if sure[i] > 0.3 or rng.random() < 0.3 else (truth[i] + 1) % 3
        tfidf[i] = (1 - sure[i]) / 2
        tfidf[i, tfidf_label] = sure[i] if sure[i] > 1 / 3 else 0.34
        tfidf[i] /= tfidf[i].sum()
        transformer[i, truth[i] if rng.random() < 0.9 else (truth[i] + 2) % 3] = 0.8
    return Scores(tfidf, transformer, truth, rng.integers(1, 100, n))


def brute_force_accuracy(scores: Scores, routing: Routing) -> float:
    proba, _ = routing.probabilities(scores)
    return float((proba.argmax(axis=1) == scores.truth).mean())


def test_the_call_rate_curve_matches_routing_each_threshold_directly():
    scores = synthetic()
    for point in call_rate_curve(scores, 0.5, 80)[::7]:
        routing = Routing(0.5, point.threshold, 80)
        assert point.accuracy == pytest.approx(brute_force_accuracy(scores, routing))
        assert point.call_rate == pytest.approx(routing.to_transformer(scores).mean())


def test_the_fit_is_the_cheapest_routing_that_reaches_always_combine():
    scores = synthetic()
    params = FitRoutingParams(max_transformer_rate=1.0, length_quantiles=(None,), max_review_rate=1.0)
    fitted = fit_routing(scores, params)
    routing = fitted.routing
    target = float((scores.combined(0.5).argmax(axis=1) == scores.truth).mean())
    assert fitted.accuracy_met and fitted.review_met
    assert brute_force_accuracy(scores, routing) >= target
    rate = routing.to_transformer(scores).mean()
    cheaper = [t for t in np.unique(scores.tfidf.max(axis=1)) if (scores.tfidf.max(axis=1) < t).mean() < rate]
    assert all(brute_force_accuracy(scores, Routing(0.5, t, None)) < target for t in cheaper)


def test_a_cap_on_transformer_calls_is_respected_even_when_the_target_is_missed():
    scores = synthetic()
    fitted = fit_routing(scores, FitRoutingParams(max_transformer_rate=0.05, length_quantiles=(None,)))
    assert fitted.routing.to_transformer(scores).mean() <= 0.05
    assert not fitted.accuracy_met and not fitted.review_met
    assert fitted.review_threshold == unflagged(fitted.routing, scores, 0.96)[0]


def _reaching(scores: Scores, cap: float, auto: float = 0.96) -> list[tuple[float, float, float]]:
    """(call rate, unflagged share, threshold) of each TF-IDF threshold under the cap keeping the accuracy."""
    target = float((scores.combined(0.5).argmax(axis=1) == scores.truth).mean())
    found = []
    for t in np.append(np.unique(scores.tfidf.max(axis=1)), 1.01):
        routing = Routing(0.5, float(t), None)
        rate = float(routing.to_transformer(scores).mean())
        if rate <= cap and brute_force_accuracy(scores, routing) >= target:
            found.append((rate, unflagged(routing, scores, auto)[1], float(t)))
    return found


def test_a_review_target_buys_transformer_calls_up_to_the_cap():
    scores = synthetic()
    loose = FitRoutingParams(max_transformer_rate=1.0, length_quantiles=(None,), max_review_rate=1.0)
    cheapest = fit_routing(scores, loose).routing.to_transformer(scores).mean()
    shares = _reaching(scores, 1.0)
    # A review target between what the cheapest routing leaves unflagged and the most any does.
    at_cheapest = max(u for r, u, _ in shares if r == cheapest)
    most = max(u for _, u, _ in shares)
    assert most > at_cheapest, "the synthetic scores must make the trade exist"
    wanted = (at_cheapest + most) / 2
    fitted = fit_routing(scores, loose.model_copy(update={"max_review_rate": 1.0 - wanted}))
    rate = fitted.routing.to_transformer(scores).mean()
    assert fitted.review_met and rate > cheapest
    assert rate == min(r for r, u, _ in shares if u >= wanted)
    assert unflagged(fitted.routing, scores, 0.96)[1] >= wanted


def test_out_of_reach_of_the_review_target_the_fit_leaves_the_most_unflagged_under_the_cap():
    scores = synthetic()
    params = FitRoutingParams(
        max_transformer_rate=0.6, length_quantiles=(None,), max_review_rate=0.0, target_auto_accuracy=0.99
    )
    fitted = fit_routing(scores, params)
    assert fitted.accuracy_met and not fitted.review_met
    most = max(u for _, u, _ in _reaching(scores, 0.6, 0.99))
    assert 0.0 < unflagged(fitted.routing, scores, 0.99)[1] == most < 1.0


def test_the_review_threshold_is_the_lowest_that_keeps_the_target_accuracy():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])
    assert review_threshold(confidence, correct, 0.8) == 0.7  # 4 of the top 5 are right
    assert review_threshold(confidence, correct, 1.0) == 0.9
    assert review_threshold(confidence, np.zeros(6, bool), 0.5) == 1.0


def test_a_bad_policy_file_is_refused_with_the_field_named(tmp_path):
    path = tmp_path / "policy.json"
    with pytest.raises(PolicyError, match="no routing policy"):
        read_policy(path)
    path.write_text("{not json")
    with pytest.raises(PolicyError, match="unreadable"):
        read_policy(path)
    path.write_text(json.dumps({"format": 1, "labels": ["a", "b"]}))
    with pytest.raises(PolicyError, match="tfidf_threshold"):
        read_policy(path)
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(PolicyError, match="format 99"):
        read_policy(path)


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector(("en", "fr", "de", "es", "it", "pt", "nl"), 0.9, 3)


@pytest.mark.parametrize(
    "text, english",
    [
        ("my laptop does not start after the update, please help", True),
        ("reset password", True),  # too short to be sure of anything: treated as English
        ("bonjour, mon ordinateur ne démarre plus depuis la mise à jour", False),
        ("hallo, mein Laptop startet nach dem Update nicht mehr, bitte helfen", False),
        ("hola, mi portátil no arranca después de la actualización", False),
    ],
)
def test_language(detector, text, english):
    assert detector.detect(text).english is english


def test_placeholders_do_not_count_as_words(detector):
    assert detector.detect("<EMAIL> <PHONE> <CARD>").english


def test_every_combination_of_routing_reasons():
    from callcenterai.routing.policy import RoutingPolicy

    fields = RoutingPolicy.model_fields
    assert {"tfidf_threshold", "max_words", "review_threshold", "fitted_for"} <= set(fields)
    for low, long, foreign in itertools.product([False, True], repeat=3):
        policy = RoutingPolicy.model_construct(tfidf_threshold=0.8, max_words=50)
        reasons = policy.transformer_reasons(0.5 if low else 0.9, 60 if long else 10, not foreign)
        assert reasons == [
            r for r, on in zip(["low_confidence", "long", "not_english"], [low, long, foreign]) if on
        ]
