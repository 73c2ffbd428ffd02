"""Stage train_tfidf: fit TF-IDF + calibrated LinearSVC, log it to MLflow, save the model folder.

The folder holds the compiled arrays the services score with (``compiled.npz``,
``vocabulary.json``), the fitted scikit-learn pipeline (``pipeline.skops``, for
analysis) and the card; the same folder is the logged model's artifact.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

from callcenterai.config import TrainTfidfParams
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.fileio import md5_of
from callcenterai.kinds import TFIDF
from callcenterai.model_card import ModelCard, new_card, smoke_tickets
from callcenterai.models.folder import copy_model_folder, write_model_folder
from callcenterai.stages.model_logging import log_model_folder
from callcenterai.tracking import use_experiment

log = logging.getLogger(__name__)


def fit(train_csv: Path, params: TrainTfidfParams):
    """The fitted pipeline and its card (without MLflow ids yet)."""
    from callcenterai.models.tfidf import build_pipeline

    train = load_processed(train_csv)
    counts = train[LABEL].value_counts()
    if counts.min() < params.calibration_folds:
        raise UserError(
            f"{train_csv}: class {counts.idxmin()!r} has {counts.min()} tickets, fewer than "
            f"train_tfidf.calibration_folds ({params.calibration_folds}); add tickets or lower the folds"
        )
    pipeline = build_pipeline(params)
    log.info(
        "train_tfidf: fitting on %d tickets (%d calibration folds)...", len(train), params.calibration_folds
    )
    started = time.perf_counter()
    texts, labels = train[TEXT].tolist(), train[LABEL].tolist()
    pipeline.fit(texts, labels)
    fit_seconds = time.perf_counter() - started
    vocabulary = len(pipeline.named_steps["tfidf"].vocabulary_)
    log.info("train_tfidf: fitted in %.1f s, %d terms", fit_seconds, vocabulary)
    card = new_card(
        "tfidf",
        labels=[str(c) for c in pipeline.classes_],
        params=params.model_dump(mode="json"),
        training_data_md5=md5_of(train_csv),
        training_rows=len(train),
        fit_seconds=round(fit_seconds, 2),
        vocabulary_size=vocabulary,
        smoke_tickets=smoke_tickets(texts, labels, pipeline.predict_proba(texts), pipeline.classes_),
    )
    return pipeline, card, texts[:3]


def _files_of(pipeline):
    from callcenterai.models.tfidf import arrays_of, save_pipeline

    def write(folder: Path) -> None:
        arrays_of(pipeline).save(folder)
        save_pipeline(pipeline, folder / "pipeline.skops")

    return write


def run_train_tfidf(train_csv: Path, model_dir: Path, params: TrainTfidfParams) -> ModelCard:
    """Fit, log to MLflow (experiment ``callcenterai-tfidf``) and save ``model_dir``."""
    import mlflow

    pipeline, card, example = fit(train_csv, params)
    use_experiment(TFIDF.experiment)
    with mlflow.start_run(run_name="train_tfidf") as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({k: json.dumps(v) if isinstance(v, list) else v for k, v in card.params.items()})
        mlflow.set_tags(
            {
                "stage": "train_tfidf",
                "model_kind": "tfidf",
                "training_data_md5": card.training_data_md5,
                "git_commit": card.git_commit or "unknown",
            }
        )
        mlflow.log_metrics(
            {
                "fit_seconds": card.fit_seconds,
                "vocabulary_size": card.vocabulary_size,
                "training_rows": card.training_rows,
            }
        )
        card = card.model_copy(update={"mlflow_run_id": run.info.run_id})
        staged = write_model_folder(Path(tmp) / "tfidf", card, _files_of(pipeline))
        log_model_folder(Path(tmp) / "tfidf", "tfidf", example, pipeline.predict_proba(example))
        mlflow.log_dict(staged.model_dump(mode="json"), "model_card.json")
        copy_model_folder(Path(tmp) / "tfidf", model_dir, staged)
    log.info("train_tfidf: saved %s (MLflow run %s)", model_dir, run.info.run_id)
    return staged
