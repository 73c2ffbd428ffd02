"""Stage fit_routing: fit the agent's thresholds on part of the test split, report on the rest.

The test split is the only data both models have never trained on. It is cut in
two, stratified by label (``fit_fraction``, ``random_state``): the thresholds
are fitted on one part and every figure written (the policy's ``expected``,
``metrics.json``, the plots) is computed on the other, so no reported number
was seen by the fit.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.evaluation import coverage_curve
from callcenterai.fileio import md5_of, staged_directory, write_json
from callcenterai.model_card import utc_now
from callcenterai.models.loading import LoadedModel, load_model_dir
from callcenterai.routing.fitting import Routing, Scores, call_rate_curve, fit_routing
from callcenterai.routing.language import LanguageDetector
from callcenterai.routing.params import FitRoutingParams
from callcenterai.routing.policy import (
    FittedModel,
    LanguageRule,
    PolicyFigures,
    RoutingPolicy,
    fingerprint_of,
)
from callcenterai.text import normalize_text

log = logging.getLogger(__name__)


def fitted_model(model: LoadedModel) -> FittedModel:
    card = model.card
    return FittedModel(
        name=card.name,
        fingerprint=fingerprint_of(card.file_sha256),
        trained_at=card.trained_at,
        training_data_md5=card.training_data_md5,
    )


def scores_of(test, labels: list[str], tfidf: LoadedModel, transformer: LoadedModel) -> Scores:
    """Both models' probabilities on a processed split, columns in ``labels`` order, and its truth."""
    texts = test[TEXT].tolist()
    columns = []
    for model in (tfidf, transformer):
        names = list(model.predictor.labels)
        if sorted(names) != sorted(labels):
            raise UserError(f"{model.card.name} has labels {names}, the test split {labels}")
        columns.append(model.predictor.predict_proba(texts)[:, [names.index(n) for n in labels]])
    words = np.array([len(normalize_text(t).split()) for t in texts])
    return Scores(columns[0], columns[1], test[LABEL].map(labels.index).to_numpy(), words)


def halves(truth: np.ndarray, params: FitRoutingParams) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(truth))
    try:
        return train_test_split(
            rows, train_size=params.fit_fraction, stratify=truth, random_state=params.random_state
        )
    except ValueError as exc:  # a class too small to be in both parts
        raise UserError(f"cannot split the test split for fitting: {exc}") from None


def figures(routing: Routing, review_at: float, scores: Scores, english: np.ndarray) -> dict:
    proba, sent = routing.probabilities(scores)
    confidence, predicted = proba.max(axis=1), proba.argmax(axis=1)
    correct = predicted == scores.truth
    auto = (confidence >= review_at) & english
    combined = scores.combined(0.5).argmax(axis=1)
    return {
        "rows": int(len(correct)),
        "accuracy": float(correct.mean()),
        "macro_f1": float(f1_score(scores.truth, predicted, average="macro")),
        "transformer_call_rate": float(sent.mean()),
        "review_rate": float(1.0 - auto.mean()),
        "auto_accuracy": float(correct[auto].mean()) if auto.any() else 0.0,
        "always_combine_accuracy": float((combined == scores.truth).mean()),
        "always_combine_macro_f1": float(f1_score(scores.truth, combined, average="macro")),
        "tfidf_accuracy": float((scores.tfidf.argmax(axis=1) == scores.truth).mean()),
        "english_misdetected_rate": float(1.0 - english.mean()),
    }


def _plots(out: Path, routing: Routing, review_at: float, held_out: Scores, shown: dict) -> None:
    from callcenterai.plots import coverage_png
    from callcenterai.routing.plots import call_rate_png

    curve = [vars(p) for p in call_rate_curve(held_out, routing.weight, routing.max_words)]
    step = max(1, len(curve) // 200)  # a readable JSON for `dvc plots`, every point in the PNG
    write_json(out / "call_rate.json", curve[::step] + curve[-1:], sort_keys=False)
    chosen = {"call_rate": shown["transformer_call_rate"], "accuracy": shown["accuracy"]}
    references = {"always combine": shown["always_combine_accuracy"], "TF-IDF alone": shown["tfidf_accuracy"]}
    call_rate_png(curve, chosen, references, out / "call_rate.png")
    proba, _ = routing.probabilities(held_out)
    confidence, correct = proba.max(axis=1), proba.argmax(axis=1) == held_out.truth
    coverage = coverage_curve(confidence, correct)
    write_json(out / "coverage.json", coverage, sort_keys=False)
    auto = float((confidence >= review_at).mean())
    coverage_png(coverage, shown["auto_accuracy"], auto, "Routed answers", out / "coverage.png")


def run_fit_routing(
    test_csv: Path, model_dirs: tuple[Path, Path], policy_dir: Path, out_dir: Path, params: FitRoutingParams
) -> RoutingPolicy:
    test = load_processed(test_csv)
    labels = sorted(test[LABEL].unique())
    tfidf, transformer = (load_model_dir(folder) for folder in model_dirs)
    texts = test[TEXT].tolist()
    scores = scores_of(test, labels, tfidf, transformer)
    detector = LanguageDetector(params.languages, params.language_min_probability, params.language_min_words)
    english = np.array([detector.detect(t).english for t in texts])
    fit_rows, report_rows = halves(scores.truth, params)
    fit_part, held_out = scores.subset(fit_rows), scores.subset(report_rows)
    fitted = fit_routing(fit_part, params)
    routing, review_at, met = fitted.routing, fitted.review_threshold, fitted.accuracy_met
    shown = figures(routing, review_at, held_out, english[report_rows])
    policy = RoutingPolicy(
        labels=labels,
        tfidf_threshold=routing.threshold,
        max_words=routing.max_words,
        transformer_weight=routing.weight,
        review_threshold=review_at,
        language=LanguageRule(
            languages=list(params.languages),
            min_probability=params.language_min_probability,
            min_words=params.language_min_words,
        ),
        fitted_for={"tfidf": fitted_model(tfidf), "transformer": fitted_model(transformer)},
        fitted_at=utc_now(),
        fitted_on=(
            f"{len(fit_rows)} of {len(texts)} rows of {test_csv} (md5 {md5_of(test_csv)}); "
            f"figures on the other {len(report_rows)}"
        ),
        target_met=met,
        review_target_met=fitted.review_met,
        expected=PolicyFigures(**shown),
        params=params.model_dump(mode="json"),
    )
    with staged_directory(Path(policy_dir)) as staged_policy, staged_directory(Path(out_dir)) as staged_out:
        policy.write(staged_policy)
        write_json(
            staged_out / "metrics.json",
            {**shown, "target_met": met, "review_target_met": fitted.review_met},
            sort_keys=False,
        )
        plots_dir = staged_out / "plots"
        plots_dir.mkdir()
        _plots(plots_dir, routing, review_at, held_out, shown)
    log.info(
        "fit_routing: TF-IDF alone at confidence >= %.3f (max %s words); transformer on %.1f%% of held-out "
        "tickets, accuracy %.4f (always combine %.4f), %.1f%% flagged for review, %.4f accurate unflagged",
        routing.threshold,
        routing.max_words,
        100 * shown["transformer_call_rate"],
        shown["accuracy"],
        shown["always_combine_accuracy"],
        100 * shown["review_rate"],
        shown["auto_accuracy"],
    )
    return policy
