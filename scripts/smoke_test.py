"""Smoke-test a running stack: every service ready, a ticket through the agent, the web page loads,
every Prometheus target up. Exits 1 naming each check that failed, 0 when all pass.

  python scripts/smoke_test.py                                   # the compose stack's default ports
  python scripts/smoke_test.py --agent-key-file secrets/agent_client_key \\
      --scrape-config deploy/prometheus/compose.yml --timeout 180

The CI workflow's staging deploy runs it after `docker compose up --wait`, and
tests/deploy/test_compose.py runs it against the compose stack it starts. Checks
are retried until they pass or --timeout seconds have gone by.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError
from callcenterai.stack.smoke import SERVICE_OPTIONS, SmokeTarget, run_smoke


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    for option, (service, port) in SERVICE_OPTIONS.items():
        parser.add_argument(f"--{option}", default=f"http://127.0.0.1:{port}", help=f"{service}'s base URL")
    parser.add_argument(
        "--agent-key-file",
        type=Path,
        default=PROJECT_ROOT / "secrets" / "agent_client_key",
        help="file holding a client key the agent accepts (default: secrets/agent_client_key)",
    )
    parser.add_argument("--scrape-config", type=Path, help="Prometheus config whose every job must be up")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to keep retrying (default 120)")
    args = parser.parse_args(argv)
    try:
        key = args.agent_key_file.read_text().strip()
    except OSError as exc:
        raise UserError(f"cannot read the agent's client key: {exc}") from exc
    urls = {service: getattr(args, option) for option, (service, _) in SERVICE_OPTIONS.items()}
    outcomes = run_smoke(SmokeTarget(urls, key, args.scrape_config), args.timeout)
    for outcome in outcomes:
        detail = f": {outcome.problem}" if outcome.problem else ""
        print(f"{'ok  ' if outcome.passed else 'FAIL'}  {outcome.check}{detail}")
    failed = [outcome.check for outcome in outcomes if not outcome.passed]
    if failed:
        print(f"smoke test failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"smoke test passed: {len(outcomes)} checks")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
