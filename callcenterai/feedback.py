"""Reviewed tickets (from ``scripts/export_feedback.py``) added to the training split.

Only the training split grows: the test split is drawn from the raw tickets
alone, so accuracy stays comparable between runs. A reviewed ticket whose
normalised text is already in the test split is left out (it would be scored
on what it was trained on), and so is one already in the training split (the
raw label stands; the review is counted, not doubled).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from callcenterai.config import PrepareParams
from callcenterai.data import LABEL, TEXT, PreparedData, check_labels, read_csv_strict
from callcenterai.text import normalize_many


def read_feedback(path: Path, params: PrepareParams) -> pd.DataFrame:
    """The reviewed tickets as normalised ``text``/``label`` rows; a header-only file has none."""
    frame = read_csv_strict(path, [params.text_column, params.label_column])
    label = frame[params.label_column]
    check_labels(label, path, params)
    return pd.DataFrame({TEXT: normalize_many(frame[params.text_column]), LABEL: label.to_numpy()})


def add_feedback(prepared: PreparedData, feedback: pd.DataFrame) -> PreparedData:
    """The split with the usable reviewed tickets appended to train, and their counts in the stats."""
    empty = feedback[TEXT] == ""
    in_test = feedback[TEXT].isin(prepared.test[TEXT]) & ~empty
    in_train = feedback[TEXT].isin(prepared.train[TEXT]) & ~empty & ~in_test
    # The export writes each ticket once; identical texts reviewed twice keep the latest decision.
    repeated = feedback[TEXT].duplicated(keep="last") & ~(empty | in_test | in_train)
    added = feedback[~(empty | in_test | in_train | repeated)]
    train = pd.concat([prepared.train, added], ignore_index=True)
    stats = dict(prepared.stats)
    stats["rows"] = {**stats["rows"], "train": int(len(train))}
    stats["feedback"] = {
        "rows": int(len(feedback)),
        "added_to_train": int(len(added)),
        "dropped": {
            "empty_after_normalisation": int(empty.sum()),
            "already_in_test": int(in_test.sum()),
            "already_in_train": int(in_train.sum()),
            "repeated": int(repeated.sum()),
        },
    }
    stats["classes"] = {
        name: {**counts, "train": int((train[LABEL] == name).sum())}
        for name, counts in prepared.stats["classes"].items()
    }
    return PreparedData(train, prepared.test, stats)
