"""Loading, validating and splitting ticket data.

Every problem is reported as one line naming the file, the line and what is wrong.
Processed files use the fixed columns ``text`` and ``label`` so that later stages
need no knowledge of the raw file's column names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from callcenterai.config import PrepareParams
from callcenterai.errors import UserError
from callcenterai.text import normalize_many

TEXT, LABEL = "text", "label"


class DataValidationError(UserError, ValueError):
    """Input data that cannot be used; the message is meant for the user as is."""


@dataclass(frozen=True)
class PreparedData:
    train: pd.DataFrame
    test: pd.DataFrame
    stats: dict


def read_csv_strict(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """Read a UTF-8 CSV as strings, checking that it exists, decodes and has ``required``."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataValidationError(f"{path}: file is empty")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataValidationError(
            f"{path}: line {line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None
    try:
        frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.ParserError as exc:
        raise DataValidationError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise DataValidationError(f"{path}: missing column {missing[0]!r} (columns found: {found})")
    return frame


def _line_of(index: int) -> int:
    """File line of a data row: the header is line 1."""
    return int(index) + 2


def check_labels(label: pd.Series, path: Path, params: PrepareParams) -> None:
    """Every label must be one of params.yaml's; the first that is not is named with its line."""
    unknown = ~label.isin(params.labels)
    if unknown.any():
        row = unknown.idxmax()
        raise DataValidationError(
            f"{path}: line {_line_of(row)}: unknown label {label[row]!r} "
            f"(params.yaml prepare.labels allows: {', '.join(params.labels)})"
        )


def validate_tickets(frame: pd.DataFrame, path: Path, params: PrepareParams) -> None:
    """Check text, labels and duplicates; raise on the first problem found."""
    text, label = frame[params.text_column], frame[params.label_column]
    if frame.empty:
        raise DataValidationError(f"{path}: no data rows")
    blank = text.str.strip() == ""
    if blank.any():
        row = blank.idxmax()
        raise DataValidationError(f"{path}: line {_line_of(row)}: blank {params.text_column}")
    check_labels(label, path, params)
    duplicated = text.duplicated(keep="first")
    if duplicated.any():
        row = duplicated.idxmax()
        first = text[text == text[row]].index[0]
        raise DataValidationError(
            f"{path}: line {_line_of(row)}: duplicate {params.text_column} "
            f"(same as line {_line_of(first)})"
        )
    counts = label.value_counts()
    for name in params.labels:
        if counts.get(name, 0) < 2:
            raise DataValidationError(
                f"{path}: label {name!r} has {counts.get(name, 0)} rows; "
                "a stratified split needs at least 2"
            )


def prepare_tickets(path: Path, params: PrepareParams) -> PreparedData:
    """Validate, normalise, de-duplicate and split the raw tickets."""
    frame = read_csv_strict(path, [params.text_column, params.label_column])
    validate_tickets(frame, path, params)
    tickets = pd.DataFrame(
        {
            TEXT: normalize_many(frame[params.text_column]),
            LABEL: frame[params.label_column].to_numpy(),
        }
    )
    empty = tickets[TEXT] == ""
    tickets = tickets[~empty]
    # Different raw texts can normalise to the same tokens; keeping one copy stops
    # the same ticket landing on both sides of the split.
    collapsed = tickets[TEXT].duplicated(keep="first")
    tickets = tickets[~collapsed].reset_index(drop=True)
    train, test = train_test_split(
        tickets,
        test_size=params.test_size,
        random_state=params.random_state,
        stratify=tickets[LABEL],
    )
    stats = describe_split(train, test, params.labels)
    stats["rows"]["raw"] = int(len(frame))
    stats["dropped"] = {
        "empty_after_normalisation": int(empty.sum()),
        "duplicate_after_normalisation": int(collapsed.sum()),
    }
    return PreparedData(train.reset_index(drop=True), test.reset_index(drop=True), stats)


def describe_split(train: pd.DataFrame, test: pd.DataFrame, labels: Sequence[str]) -> dict:
    """Counts per class and split, and the distribution of ticket lengths in words."""
    lengths = pd.concat([train, test])[TEXT].str.split().str.len().to_numpy()
    return {
        "rows": {"train": int(len(train)), "test": int(len(test))},
        "classes": {
            name: {
                "train": int((train[LABEL] == name).sum()),
                "test": int((test[LABEL] == name).sum()),
            }
            for name in labels
        },
        "length_words": {
            "mean": round(float(np.mean(lengths)), 2),
            "p50": float(np.percentile(lengths, 50)),
            "p95": float(np.percentile(lengths, 95)),
            "max": int(np.max(lengths)),
        },
    }


def load_processed(path: Path) -> pd.DataFrame:
    """Read a processed split written by the prepare stage."""
    frame = read_csv_strict(path, [TEXT, LABEL])
    if frame.empty:
        raise DataValidationError(f"{path}: no data rows")
    return frame
