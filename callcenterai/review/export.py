"""Reviewed tickets as training data: the CSV that ``prepare`` will add to the training split.

Columns are the raw data's (``Document``, ``Topic_group``, from the ``prepare``
section's names) plus when the decision was made. The text is what the models
saw: the redacted text with its placeholders removed, as the agent sends it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from callcenterai.errors import UserError
from callcenterai.fileio import spreadsheet_safe, staged_files
from callcenterai.review.store import ReviewStore

_PLACEHOLDER = re.compile(r"<[A-Z_]+>")


class ExportError(UserError, RuntimeError):
    """The review store could not be read."""


def model_text(redacted: str) -> str:
    return " ".join(_PLACEHOLDER.sub(" ", redacted).split())


def export_reviewed(
    store: ReviewStore, out: Path, text_column: str, label_column: str, missing_ok: bool = False
) -> int:
    """Write every reviewed ticket (its latest decision) to ``out``, atomically; returns the count.

    ``missing_ok``: a SQLite store that does not exist yet (nothing was ever flagged)
    gives a file with the header only, as the pipeline's first stage wants.
    """
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        if not missing_ok:
            # Connecting would create an empty database file where none was meant to be.
            raise ExportError(f"no review store at {url.database}: set DATABASE_URL or --database-url")
        rows = []
    else:
        rows = _reviewed_rows(store)
    with staged_files(Path(out)) as (staged,):
        with open(staged, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([text_column, label_column, "reviewed_at"])
            # Reviewers open this file in spreadsheets: a ticket typed as a formula stays text.
            writer.writerows((spreadsheet_safe(model_text(text)), label, at) for text, label, at in rows)
    return len(rows)


def _reviewed_rows(store: ReviewStore) -> list[tuple[str, str, str]]:
    try:
        return store.reviewed()
    except SQLAlchemyError as exc:
        # The URL's repr hides a password.
        raise ExportError(
            f"cannot read the review store at {store.engine.url!r}: {exc.__class__.__name__}"
        ) from None
