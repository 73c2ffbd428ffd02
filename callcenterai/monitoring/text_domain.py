"""The text itself: Evidently's text drift with a domain classifier (evidently 0.7, pinned).

Evidently pools the reference and window texts, trains a classifier (TF-IDF and a
linear model) to tell which side a text came from on one half, and scores it on the
other: a ROC AUC near 0.5 means the texts cannot be told apart, near 1 that they can.
Method ``abs_text_content_drift``: drift when the AUC passes the threshold.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from callcenterai.monitoring.checks import CheckResult

METHOD = "abs_text_content_drift"
TEXT = "text"
# Fewer distinct texts than this on a side leave the classifier nothing to learn from.
MIN_DISTINCT_TEXTS = 20


def _import_evidently():
    """Evidently's report classes. evidently 0.7.23 imports ``infer_dtype_from_object`` from pandas,
    which pandas 3 removed; only its legacy column-type test calls it, which no check here runs,
    so a stand-in with pandas 2's meaning lets the package import."""
    import pandas.core.dtypes.common as dtypes_common

    if not hasattr(dtypes_common, "infer_dtype_from_object"):
        dtypes_common.infer_dtype_from_object = lambda dtype: pd.api.types.pandas_dtype(dtype).type
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    return DataDefinition, Dataset, Report, ValueDrift


def _distinct(texts: Sequence[str]) -> list[str]:
    # A text on both halves of the classifier's split is learnt, not told apart: duplicates
    # (a window sampled with repeats, a ticket sent twice) would read as drift.
    return list(dict.fromkeys(text for text in texts if text))


def text_domain(
    reference_texts: Sequence[str], window_texts: Sequence[str], threshold: float
) -> tuple[CheckResult, Any]:
    """The check's result and Evidently's snapshot (None when there was too little text to run it)."""
    reference, window = _distinct(reference_texts), _distinct(window_texts)
    detail = {
        "reference_distinct_texts": len(reference),
        "window_distinct_texts": len(window),
        "window_duplicate_share": round(1 - len(window) / max(len(window_texts), 1), 4),
    }
    method = f"Evidently {METHOD}: ROC AUC of a classifier telling window texts from reference texts"
    if min(len(reference), len(window)) < MIN_DISTINCT_TEXTS:
        # The training split holds no duplicate: a window of a few texts repeated is unlike it.
        detail["reason"] = f"fewer than {MIN_DISTINCT_TEXTS} distinct texts on a side: scored as drift"
        return CheckResult(1.0, threshold, method, detail), None
    DataDefinition, Dataset, Report, ValueDrift = _import_evidently()
    definition = DataDefinition(text_columns=[TEXT])
    report = Report([ValueDrift(column=TEXT, method=METHOD, threshold=threshold)])
    snapshot = report.run(
        Dataset.from_pandas(pd.DataFrame({TEXT: window}), data_definition=definition),
        Dataset.from_pandas(pd.DataFrame({TEXT: reference}), data_definition=definition),
    )
    score = float(snapshot.dict()["metrics"][0]["value"])
    return CheckResult(score, threshold, method, detail), snapshot
