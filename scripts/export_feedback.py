"""Export the reviewed tickets from the review store to a CSV for the next training run.

Reads DATABASE_URL (default: review.db in the current folder, where the agent
and the web interface write it when run from the project) and writes
OUTPUT (default data/feedback/reviewed.csv; DVC-tracked, never committed):
one row per reviewed ticket, its latest decision, in the raw data's columns.
The file is replaced only when the export succeeds. The pipeline runs this
as its first stage (export_feedback, always run: the database is outside DVC's
view) with --missing-ok, so a project that never flagged a ticket trains as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT, PrepareParams, load_section


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument(
        "output", nargs="?", type=Path, default=PROJECT_ROOT / "data" / "feedback" / "reviewed.csv"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or f"sqlite:///{Path.cwd() / 'review.db'}",
        help="default: DATABASE_URL, else sqlite:///review.db in the current folder",
    )
    parser.add_argument(
        "--missing-ok", action="store_true", help="no SQLite store yet: write the header only"
    )
    args = parser.parse_args(argv)
    from callcenterai.review.export import export_reviewed
    from callcenterai.review.store import ReviewStore

    columns = load_section("prepare", PrepareParams)
    count = export_reviewed(
        ReviewStore(args.database_url),
        args.output,
        columns.text_column,
        columns.label_column,
        missing_ok=args.missing_ok,
    )
    print(f"exported {count} reviewed tickets to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
