"""Stage fit_routing: fit the agent's routing policy (thresholds, review cut-off) on the test split.

Reads the ``fit_routing`` section of params.yaml. Fits on one part of TEST_CSV and
reports on the other (see callcenterai/stages/fit_routing.py); writes
POLICY_DIR/policy.json for the agent, and OUT_DIR/metrics.json and OUT_DIR/plots.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import load_section
from callcenterai.routing.params import FitRoutingParams


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("test_csv", type=Path, help="processed test split (text,label)")
    parser.add_argument("tfidf_dir", type=Path, help="the TF-IDF model folder")
    parser.add_argument("transformer_dir", type=Path, help="the transformer model folder")
    parser.add_argument("policy_dir", type=Path, help="folder for policy.json")
    parser.add_argument("out_dir", type=Path, help="folder for metrics.json and plots/")
    args = parser.parse_args(argv)
    params = load_section("fit_routing", FitRoutingParams)
    from callcenterai.stages.fit_routing import run_fit_routing

    run_fit_routing(
        args.test_csv, (args.tfidf_dir, args.transformer_dir), args.policy_dir, args.out_dir, params
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
