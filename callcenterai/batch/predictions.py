"""The rows a batch scoring writes, the same whichever engine computes them.

One row per input row, in input order: label, confidence, one probability
column per label (``p_<label>``, in the model's label order) and refused. A
ticket with nothing left to classify is not scored, as the services refuse it:
its label is empty, its numbers missing and refused gives the reason.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from callcenterai.errors import BadInput
from callcenterai.evaluation import probabilities_frame
from callcenterai.models.predictor import Predictor
from callcenterai.text import NOTHING_TO_CLASSIFY, wordless

BLANK_TEXT = "blank ticket text"


def prediction_columns(labels: Sequence[str]) -> list[str]:
    """The output's columns, in order."""
    return ["label", "confidence", *(f"p_{label}" for label in labels), "refused"]


def predictions(labels: Sequence[str], proba: np.ndarray, refused: list[int]) -> pd.DataFrame:
    """One row per input row: the scored rows' probabilities (``proba``, in order) with the refused
    rows (their input positions) put back in place, empty but for the reason."""
    rows = len(proba) + len(refused)
    frame = probabilities_frame(labels, proba)
    skipped = set(refused)
    frame.index = [i for i in range(rows) if i not in skipped]
    frame = frame.reindex(range(rows))
    frame["label"] = frame["label"].fillna("")
    frame["refused"] = ""
    frame.loc[refused, "refused"] = NOTHING_TO_CLASSIFY
    return frame.reset_index(drop=True)


def score_texts(
    predictor: Predictor,
    texts: Sequence[str],
    batch_size: int = 2048,
    progress: Callable[[Iterable[int]], Iterable[int]] = iter,
) -> pd.DataFrame:
    """``predictions`` of ``texts``, scored ``batch_size`` at a time; BadInput if one is blank."""
    if any(text is None or not str(text).strip() for text in texts):
        raise BadInput(BLANK_TEXT)
    refused = wordless(texts)  # a model would score them anyway, from nothing: its prior
    skipped = set(refused)
    kept = [text for i, text in enumerate(texts) if i not in skipped]
    chunks = [
        predictor.predict_proba(kept[begin : begin + batch_size])
        for begin in progress(range(0, len(kept), batch_size))
    ]
    proba = np.vstack(chunks) if chunks else np.empty((0, len(predictor.labels)))
    return predictions(predictor.labels, proba, refused)
