"""Stage evaluate: score each model (and their probability average) on the test split,
write DVC metrics and plots, and log each model's to its MLflow run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from callcenterai.config import EvaluateParams
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.evaluation import average_probabilities, evaluate_probabilities
from callcenterai.fileio import md5_of, staged_directory, write_json
from callcenterai.kinds import KINDS, kind_named
from callcenterai.model_card import ModelCard
from callcenterai.models.loading import load_model_dir
from callcenterai.tracking import metric_key, tracking_uri, use_experiment

log = logging.getLogger(__name__)

ENSEMBLE_TITLE = "Ensemble (mean probability)"
# metrics.json is what `dvc metrics diff` and `dvc exp show` put in columns: the
# headline numbers first, in this order; per-class F1 lives in plots/*_per_class_f1.json.
HEADLINE = (
    "accuracy",
    "macro_f1",
    "ece",
    "coverage_at_target_accuracy",
    "weighted_f1",
    "log_loss",
    "macro_precision",
    "macro_recall",
    "confidence_threshold_at_target_accuracy",
    "target_accuracy",
    "rows",
)


def metrics_file(per_model: dict[str, dict], test_md5: str) -> dict:
    """The DVC metrics file: per model, the headline numbers in HEADLINE order."""
    shown = {name: {key: metrics[key] for key in HEADLINE} for name, metrics in per_model.items()}
    return {**shown, "test_data_md5": test_md5}


@dataclass
class Scored:
    name: str
    card: ModelCard | None  # None for the ensemble: it has no run of its own
    labels: list[str]
    proba: np.ndarray


def _title(name: str) -> str:
    return KINDS[name].title if name in KINDS else ENSEMBLE_TITLE


def _write_plot_files(plots_dir: Path, prefix: str, result: dict, labels: list[str], params: EvaluateParams):
    from callcenterai import plots

    data, metrics = result["plots"], result["metrics"]
    (plots_dir / f"{prefix}_confusion.csv").write_text(
        "actual,predicted\n" + "".join(f'"{r["actual"]}","{r["predicted"]}"\n' for r in data["confusion"]),
        encoding="utf-8",
    )
    for name in ("per_class_f1", "reliability", "coverage"):
        write_json(plots_dir / f"{prefix}_{name}.json", data[name])
    title, path = _title(prefix), lambda name: plots_dir / f"{prefix}_{name}.png"
    coverage = metrics["coverage_at_target_accuracy"]
    return [
        plots.confusion_png(data["confusion_matrix"], labels, title, path("confusion")),
        plots.per_class_f1_png(data["per_class_f1"], title, path("per_class_f1")),
        plots.reliability_png(data["reliability"], metrics["ece"], title, path("reliability")),
        plots.coverage_png(data["coverage"], params.target_accuracy, coverage, title, path("coverage")),
    ]


def _log_evaluation_to_mlflow(card: ModelCard, metrics: dict, images: list[Path], test_md5: str) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    run_id = card.mlflow_run_id
    use_experiment(kind_named(card.kind).experiment)
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


def score_models(model_dirs: dict[str, Path], texts: list[str], ensemble: str | None) -> list[Scored]:
    scored = []
    for name, folder in model_dirs.items():
        model = load_model_dir(folder)
        scored.append(
            Scored(name, model.card, list(model.predictor.labels), model.predictor.predict_proba(texts))
        )
    if ensemble:
        if len(scored) < 2:
            raise UserError("an ensemble needs at least two models")
        labels, proba = average_probabilities([(s.labels, s.proba) for s in scored])
        scored.append(Scored(ensemble, None, labels, proba))
    return scored


def _evaluated(test_csv: Path, entry: Scored, truth, params: EvaluateParams) -> dict:
    try:
        return evaluate_probabilities(
            truth, entry.proba, entry.labels, params.calibration_bins, params.target_accuracy
        )
    except UserError as exc:
        raise UserError(f"{test_csv}: {entry.name}: {exc}") from None


def _summary(name: str, metrics: dict, params: EvaluateParams) -> None:
    log.info(
        "evaluate %s: accuracy %.4f, macro-F1 %.4f, ECE %.4f, %.1f%% coverage at %.0f%% accuracy",
        name,
        metrics["accuracy"],
        metrics["macro_f1"],
        metrics["ece"],
        100 * metrics["coverage_at_target_accuracy"],
        100 * params.target_accuracy,
    )


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
    truth = test[LABEL].to_numpy()
    scored = score_models(model_dirs, test[TEXT].tolist(), ensemble)
    metrics_out: dict[str, Any] = {}
    to_log = []
    with staged_directory(Path(out_dir)) as staging:
        plots_dir = staging / "plots"
        plots_dir.mkdir()
        for entry in scored:
            result = _evaluated(test_csv, entry, truth, params)
            images = _write_plot_files(plots_dir, entry.name, result, entry.labels, params)
            metrics_out[entry.name] = result["metrics"]
            if entry.card is not None:
                to_log.append((entry.card, result["metrics"], images))
            _summary(entry.name, result["metrics"], params)
        if len(scored) > 1:
            plots.comparison_png(dict(metrics_out), plots_dir / "comparison.png")
        test_md5 = md5_of(test_csv)
        written = metrics_file(metrics_out, test_md5)
        write_json(staging / "metrics.json", written, sort_keys=False)
        # MLflow last, inside the staging block: a failure here keeps the old outputs.
        for card, metrics, images in to_log:
            _log_evaluation_to_mlflow(card, metrics, images, test_md5)
    return written
