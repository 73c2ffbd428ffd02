"""The real tickets, split as the pipeline splits them, and a TF-IDF model trained on part of the
training split: the drift checks are tested on what production would compare."""

from __future__ import annotations

import pandas as pd
import pytest

from callcenterai.config import MonitorDriftParams, PrepareParams, TrainTfidfParams
from callcenterai.models.loading import load_model_dir
from callcenterai.monitoring.drift_run import language_detector
from callcenterai.monitoring.features import predictions

# A model on part of the training split fits in seconds and answers like the real one;
# the reference is drawn from the tickets it learnt from, as production's is.
MODEL_TRAIN_ROWS = 8000
REFERENCE_SIZE = 3000
WINDOW_SIZE = 1000
PARAMS = MonitorDriftParams(reference_size=REFERENCE_SIZE, min_window_tickets=WINDOW_SIZE)


@pytest.fixture(scope="session")
def split(shared_csv):
    from callcenterai.data import prepare_tickets

    return prepare_tickets(shared_csv, PrepareParams())


@pytest.fixture(scope="session")
def model_train(split) -> pd.DataFrame:
    return split.train.sample(n=MODEL_TRAIN_ROWS, random_state=11).reset_index(drop=True)


@pytest.fixture(scope="session")
def drift_model_dir(tmp_path_factory, model_train):
    from callcenterai.models.folder import write_model_folder
    from callcenterai.models.tfidf import arrays_of, save_pipeline
    from callcenterai.stages.train_tfidf import fit

    folder = tmp_path_factory.mktemp("drift_model")
    model_train.to_csv(folder / "train.csv", index=False)
    pipeline, card, _ = fit(folder / "train.csv", TrainTfidfParams(calibration_folds=3))

    def files(staging):
        arrays_of(pipeline).save(staging)
        save_pipeline(pipeline, staging / "pipeline.skops")

    write_model_folder(folder / "tfidf", card, files)
    return folder / "tfidf"


@pytest.fixture(scope="session")
def drift_model(drift_model_dir):
    return load_model_dir(drift_model_dir)


@pytest.fixture(scope="session")
def reference(model_train) -> pd.DataFrame:
    return model_train.sample(n=REFERENCE_SIZE, random_state=12).reset_index(drop=True)


@pytest.fixture(scope="session")
def detector():
    return language_detector()


@pytest.fixture(scope="session")
def answered_test_split(split, drift_model) -> pd.DataFrame:
    """The test split as the agent would record it: text, the model's label and confidence."""
    answered = split.test.loc[:, ["text"]].copy()
    answered["label"], answered["confidence"] = predictions(drift_model, answered["text"].tolist())
    return answered
