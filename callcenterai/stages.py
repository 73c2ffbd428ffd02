"""The pipeline stages as functions; ``scripts/`` holds their thin command lines.

Each stage writes its outputs all or nothing: a stage that fails leaves the
previous outputs as they were (``dvc.yaml`` marks them ``persist`` so DVC does
not delete them before the stage runs).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from callcenterai.config import EvaluateParams, PrepareParams, TrainTfidfParams
from callcenterai.data import LABEL, TEXT, load_processed, prepare_tickets
from callcenterai.errors import UserError
from callcenterai.evaluation import average_probabilities, evaluate_probabilities
from callcenterai.fileio import md5_of, staged_directory, staged_files, write_json
from callcenterai.model_card import EXPERIMENTS, new_card, smoke_tickets
from callcenterai.models.store import load_model, save_model_dir
from callcenterai.tracking import metric_key, tracking_uri, use_experiment

log = logging.getLogger(__name__)

# Passing requirements explicitly saves ~12 s of environment inference per log_model.
SKLEARN_MODEL_REQUIREMENTS = ["scikit-learn", "numpy", "scipy", "callcenterai"]
# MLflow stores sklearn models with skops, which loads only types named as trusted.
SKOPS_TRUSTED_TYPES = [
    "callcenterai.text.as_text_list",
    "callcenterai.text.normalize_text",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
]


def run_prepare(raw_csv: Path, out_dir: Path, params: PrepareParams) -> dict:
    prepared = prepare_tickets(raw_csv, params)
    stats = {**prepared.stats, "raw_md5": md5_of(raw_csv)}
    out_dir = Path(out_dir)
    targets = [out_dir / "train.csv", out_dir / "test.csv", out_dir / "data_stats.json"]
    with staged_files(*targets) as (train_tmp, test_tmp, stats_tmp):
        prepared.train.to_csv(train_tmp, index=False)
        prepared.test.to_csv(test_tmp, index=False)
        write_json(stats_tmp, stats)
    log.info(
        "prepare: %d train, %d test rows -> %s",
        stats["rows"]["train"],
        stats["rows"]["test"],
        out_dir,
    )
    return stats


def _labels_of(frame) -> list[str]:
    return sorted(frame[LABEL].unique().tolist())


def run_train_tfidf(train_csv: Path, model_dir: Path, params: TrainTfidfParams) -> dict:
    """Fit, log to MLflow (experiment ``callcenterai-tfidf``) and save ``model_dir``."""
    import mlflow
    from mlflow.models import infer_signature

    from callcenterai.models.tfidf import build_pipeline

    train = load_processed(train_csv)
    pipeline = build_pipeline(params)
    log.info(
        "train_tfidf: fitting on %d tickets (%d calibration folds)...", len(train), params.calibration_folds
    )
    started = time.perf_counter()
    pipeline.fit(train[TEXT].tolist(), train[LABEL].tolist())
    fit_seconds = time.perf_counter() - started
    vocabulary = len(pipeline.named_steps["tfidf"].vocabulary_)
    log.info("train_tfidf: fitted in %.1f s, %d terms", fit_seconds, vocabulary)

    texts = train[TEXT].tolist()
    smoke = smoke_tickets(texts, train[LABEL].tolist(), pipeline.predict_proba(texts), pipeline.classes_)
    card = new_card(
        "tfidf",
        labels=[str(c) for c in pipeline.classes_],
        params=params.model_dump(mode="json"),
        training_data_md5=md5_of(train_csv),
        training_rows=len(train),
        fit_seconds=round(fit_seconds, 2),
        vocabulary_size=vocabulary,
        smoke_tickets=smoke,
    )
    use_experiment(EXPERIMENTS["tfidf"])
    example = train[TEXT].head(3).tolist()
    with mlflow.start_run(run_name="train_tfidf") as run:
        mlflow.log_params({k: json.dumps(v) if isinstance(v, list) else v for k, v in card["params"].items()})
        mlflow.set_tags(
            {
                "stage": "train_tfidf",
                "model_kind": "tfidf",
                "training_data_md5": card["training_data_md5"],
                "git_commit": card["git_commit"] or "unknown",
            }
        )
        mlflow.log_metrics(
            {"fit_seconds": fit_seconds, "vocabulary_size": vocabulary, "training_rows": len(train)}
        )
        card["mlflow_run_id"] = run.info.run_id
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict_proba(example)),
            input_example=example,
            pip_requirements=SKLEARN_MODEL_REQUIREMENTS,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            metadata={"model_card": card},
        )
        card["mlflow_model_id"] = info.model_id
        save_model_dir(model_dir, pipeline, card)
        mlflow.log_dict(card, "model_card.json")
    log.info("train_tfidf: saved %s (MLflow run %s)", model_dir, card["mlflow_run_id"])
    return card


PLOT_TITLES = {"tfidf": "TF-IDF", "transformer": "Transformer", "ensemble": "Ensemble (mean probability)"}


def _write_plot_files(
    plots_dir: Path, prefix: str, result: dict, labels: list[str], params: EvaluateParams
) -> list[Path]:
    from callcenterai import plots

    data, metrics = result["plots"], result["metrics"]
    (plots_dir / f"{prefix}_confusion.csv").write_text(
        "actual,predicted\n" + "".join(f'"{r["actual"]}","{r["predicted"]}"\n' for r in data["confusion"]),
        encoding="utf-8",
    )
    for name in ("per_class_f1", "reliability", "coverage"):
        write_json(plots_dir / f"{prefix}_{name}.json", data[name])
    title = PLOT_TITLES.get(prefix, prefix)
    return [
        plots.confusion_png(data["confusion_matrix"], labels, title, plots_dir / f"{prefix}_confusion.png"),
        plots.per_class_f1_png(data["per_class_f1"], title, plots_dir / f"{prefix}_per_class_f1.png"),
        plots.reliability_png(
            data["reliability"], metrics["ece"], title, plots_dir / f"{prefix}_reliability.png"
        ),
        plots.coverage_png(
            data["coverage"],
            params.target_accuracy,
            metrics["coverage_at_target_accuracy"],
            title,
            plots_dir / f"{prefix}_coverage.png",
        ),
    ]


def _log_evaluation_to_mlflow(card: dict, metrics: dict, images: list[Path], test_md5: str) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    run_id = card.get("mlflow_run_id")
    use_experiment(EXPERIMENTS[card["kind"]])
    try:
        found = bool(run_id) and mlflow.get_run(run_id) is not None
    except MlflowException:
        found = False
    if not found:
        raise UserError(
            f"the model's MLflow run {run_id!r} is not in {tracking_uri()}; re-run its training stage"
        )
    flat = {metric_key("test", k): v for k, v in metrics.items() if isinstance(v, (int, float))}
    flat.update({metric_key("test_f1", k): v for k, v in metrics["per_class_f1"].items()})
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics(flat)
        mlflow.set_tag("test_data_md5", test_md5)
        mlflow.log_dict(metrics, "evaluation/metrics.json")
        for image in images:
            mlflow.log_artifact(str(image), artifact_path="evaluation")


def run_evaluate(
    model_dirs: dict[str, Path],
    test_csv: Path,
    out_dir: Path,
    params: EvaluateParams,
    ensemble: str | None = None,
) -> dict:
    """Score each model (and, if ``ensemble`` names it, their probability average) on the
    test split; write DVC metrics and plots, log each model's to its MLflow run."""
    from callcenterai import plots

    test = load_processed(test_csv)
    texts, truth = test[TEXT].tolist(), test[LABEL].to_numpy()
    results: dict[str, Any] = {}
    with staged_directory(Path(out_dir)) as staging:
        plots_dir = staging / "plots"
        plots_dir.mkdir()
        metrics_out: dict[str, Any] = {}
        scored: list[tuple[str, dict | None, list[str], np.ndarray]] = []
        for prefix, folder in model_dirs.items():
            model = load_model(folder)
            scored.append(
                (prefix, model.card, list(model.predictor.labels), model.predictor.predict_proba(texts))
            )
        if ensemble:
            if len(scored) < 2:
                raise UserError("an ensemble needs at least two models")
            labels, proba = average_probabilities([(names, proba) for _, _, names, proba in scored])
            scored.append((ensemble, None, labels, proba))
        for prefix, card, labels, proba in scored:
            result = evaluate_probabilities(
                truth, proba, labels, params.calibration_bins, params.target_accuracy
            )
            images = _write_plot_files(plots_dir, prefix, result, labels, params)
            metrics_out[prefix] = result["metrics"]
            if card is not None:
                results[prefix] = (card, result["metrics"], images)
            log.info(
                "evaluate %s: accuracy %.4f, macro-F1 %.4f, ECE %.4f, %.1f%% coverage at %.0f%% accuracy",
                prefix,
                result["metrics"]["accuracy"],
                result["metrics"]["macro_f1"],
                result["metrics"]["ece"],
                100 * result["metrics"]["coverage_at_target_accuracy"],
                100 * params.target_accuracy,
            )
        if len(scored) > 1:
            plots.comparison_png(dict(metrics_out), plots_dir / "comparison.png")
        metrics_out["test_data_md5"] = md5_of(test_csv)
        write_json(staging / "metrics.json", metrics_out)
        # MLflow last, inside the staging block: a failure here keeps the old outputs.
        for prefix, (card, metrics, images) in results.items():
            _log_evaluation_to_mlflow(card, metrics, images, metrics_out["test_data_md5"])
    return metrics_out


def probabilities_frame(labels, proba: np.ndarray):
    import pandas as pd

    best = proba.argmax(axis=1)
    frame = pd.DataFrame({"label": np.asarray(labels)[best], "confidence": proba.max(axis=1)})
    for j, name in enumerate(labels):
        frame[f"p_{name}"] = proba[:, j]
    return frame
