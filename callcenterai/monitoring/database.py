"""The drift run and the review store: the window read from the traffic the agent recorded,
and each run's scores saved for the agent's drift gauges."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from callcenterai.errors import UserError
from callcenterai.monitoring.windows import DriftInputError, window_from_rows
from callcenterai.review.drift_runs import save_drift_run
from callcenterai.review.store import ReviewStore
from callcenterai.review.traffic import traffic_window


class DriftStoreError(UserError, RuntimeError):
    """The review store could not be read or written."""


def _where(store: ReviewStore) -> str:
    return repr(store.engine.url)  # SQLAlchemy's repr hides a password


def _check_exists(store: ReviewStore) -> None:
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        # Connecting would create an empty database file where none was meant to be.
        raise DriftInputError(f"no review store at {url.database}: set DATABASE_URL, or give --window-csv")


def window_from_store(
    store: ReviewStore, size: int, labels: tuple[str, ...], min_tickets: int
) -> pd.DataFrame:
    """The newest ``size`` answered tickets the agent recorded (traffic samples), checked."""
    _check_exists(store)
    try:
        rows = traffic_window(store, size)
    except SQLAlchemyError as exc:
        raise DriftStoreError(
            f"cannot read the traffic samples at {_where(store)}: {exc.__class__.__name__} "
            "(is the store migrated? the agent migrates it when it starts)"
        ) from None
    return window_from_rows(rows, f"traffic samples at {_where(store)}", labels, min_tickets)


def record_run(store: ReviewStore, run: dict) -> int:
    """Save the run (its scores become the agent's drift gauges); its id."""
    try:
        return save_drift_run(store, run)
    except SQLAlchemyError as exc:
        raise DriftStoreError(
            f"cannot save the drift run at {_where(store)}: {exc.__class__.__name__}"
        ) from None
