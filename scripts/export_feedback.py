"""Export the reviewed tickets from the review store to a CSV for the next training run.

Reads DATABASE_URL (default: the project's sqlite:///review.db) and writes
OUTPUT (default data/feedback/reviewed.csv; DVC-tracked, never committed):
one row per reviewed ticket, its latest decision, in the raw data's columns.
The file is replaced only when the export succeeds.
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
        "--database-url", default=os.environ.get("DATABASE_URL"), help="default: DATABASE_URL"
    )
    args = parser.parse_args(argv)
    from callcenterai.review.export import export_reviewed
    from callcenterai.review.store import ReviewStore

    columns = load_section("prepare", PrepareParams)
    count = export_reviewed(
        ReviewStore(args.database_url), args.output, columns.text_column, columns.label_column
    )
    print(f"exported {count} reviewed tickets to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
