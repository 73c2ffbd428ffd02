"""The two sides of a drift run: the window of answered tickets and the training reference.

A window has one row per answered ticket: its redacted text and the label and
confidence the agent answered with. It comes from the review store's traffic
samples (what the agent recorded) or from a CSV with the same columns; the words and
language the agent also records are measured again (``features``), by the rules the
reference is measured with. The reference is a random sample of the training split,
the tickets the model learnt from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from callcenterai.errors import UserError

WINDOW_COLUMNS = ("text", "label", "confidence")
REFERENCE_COLUMNS = ("text", "label")


class DriftInputError(UserError, ValueError):
    """A window or reference the drift checks cannot use; the message says which and why."""


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"text": str, "label": str}, keep_default_na=False)
    except FileNotFoundError:
        raise DriftInputError(f"{path}: no {what} file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DriftInputError(f"{path}: not a readable CSV ({exc.__class__.__name__})") from None


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise DriftInputError(
            f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}"
        )


def checked_window(
    frame: pd.DataFrame, source: str, labels: tuple[str, ...], min_tickets: int
) -> pd.DataFrame:
    """The window's text, label and confidence columns, checked; DriftInputError naming the problem."""
    _require_columns(frame, WINDOW_COLUMNS, source)
    window = frame.loc[:, list(WINDOW_COLUMNS)].copy()
    window["text"] = window["text"].fillna("").astype(str)
    window = window[window["text"].str.strip() != ""].reset_index(drop=True)
    if len(window) < min_tickets:
        raise DriftInputError(
            f"{source}: {len(window)} tickets with text, fewer than monitor_drift.min_window_tickets "
            f"({min_tickets}): too few to say whether anything drifted"
        )
    confidence = pd.to_numeric(window["confidence"], errors="coerce")
    if confidence.isna().any() or not confidence.between(0.0, 1.0).all():
        raise DriftInputError(f"{source}: confidence must be a number from 0 to 1 on every row")
    window["confidence"] = confidence.astype(float)
    window["label"] = window["label"].astype(str)
    unknown = sorted(set(window["label"]) - set(labels))
    if unknown:
        raise DriftInputError(f"{source}: label(s) {unknown[:5]} are not the model's ({', '.join(labels)})")
    return window


def window_from_csv(path: Path, labels: tuple[str, ...], min_tickets: int) -> pd.DataFrame:
    """A window from a CSV with columns text, label, confidence (offline runs, tests)."""
    return checked_window(_read_csv(Path(path), "window"), str(path), labels, min_tickets)


def window_from_rows(
    rows: list[dict], source: str, labels: tuple[str, ...], min_tickets: int
) -> pd.DataFrame:
    """A window from the review store's traffic samples (``traffic_window``'s rows)."""
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(WINDOW_COLUMNS))
    return checked_window(frame, source, labels, min_tickets)


def load_reference(path: Path, size: int, random_state: int) -> pd.DataFrame:
    """A random sample of ``size`` tickets of the training split (all of it when smaller)."""
    path = Path(path)
    frame = _read_csv(path, "reference (training split: run `dvc repro prepare` or `dvc pull`)")
    _require_columns(frame, REFERENCE_COLUMNS, str(path))
    frame = frame[frame["text"].str.strip() != ""]
    if frame.empty:
        raise DriftInputError(f"{path}: the reference holds no ticket")
    if len(frame) > size:
        frame = frame.sample(n=size, random_state=np.random.RandomState(random_state))
    return frame.loc[:, list(REFERENCE_COLUMNS)].reset_index(drop=True)
