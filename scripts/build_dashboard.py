"""Write the Grafana dashboard that deploy/grafana provisions, from its code in callcenterai/dashboards.

  python scripts/build_dashboard.py          # writes deploy/grafana/dashboards/callcenterai-overview.json
  python scripts/build_dashboard.py --check  # exit 1 if the committed JSON differs from what the code builds

Edit the code (callcenterai/dashboards/overview.py), not the JSON: the tests fail when the two differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.dashboards.overview import OVERVIEW_JSON, overview_json, write_overview


def main(argv: list[str] | None = None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--output", type=Path, default=OVERVIEW_JSON, help="where to write the dashboard")
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    args = parser.parse_args(argv)
    if not args.check:
        print(f"wrote {write_overview(args.output)}")
        return 0
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
    if current != overview_json():
        print(
            f"{args.output} differs from what callcenterai/dashboards builds: run {sys.argv[0]}",
            file=sys.stderr,
        )
        return 1
    print(f"{args.output} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
