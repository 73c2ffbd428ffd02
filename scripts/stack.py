"""The whole product as plain processes on this machine: MLflow, the four services and Prometheus.

  python scripts/stack.py up       # start all, wait until each is ready, print where each is
  python scripts/stack.py status   # each process: ready, running (not ready) or stopped
  python scripts/stack.py down     # stop them all (SIGTERM, then SIGKILL after a grace period)

Run it after the Quick start: MLflow serves the project's store (mlflow.db,
mlartifacts), the classifier services load the production versions through it,
and the agent routes by the fitted policy. Everything listens on 127.0.0.1 only.
Generated secrets, logs, the review store and Prometheus's data go to the state
folder (<project>/.stack, git ignores it). Ports: MLflow 5000, Prometheus 9090,
web_interface 8080, agent 8000, tfidf_svc 8001, transformer_svc 8002; move them
all with --port-offset, or one with --port agent=18000. Prometheus is Debian's
/usr/bin/prometheus (apt-get install prometheus). Exit status: 0 done (status:
every process ready), 1 status found one not ready, 2 an error said why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT
from callcenterai.stack import commands, report
from callcenterai.stack.layout import STATE_FOLDER, StackLayout, parse_port_override, resolve_ports


def parse(argv=None) -> argparse.Namespace:
    parser = parser_for(__doc__)
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument(
        "--project", type=Path, default=PROJECT_ROOT, help="whose mlflow.db, mlartifacts, models/"
    )
    parser.add_argument("--state", type=Path, help=f"the state folder (default <project>/{STATE_FOLDER})")
    parser.add_argument("--port-offset", type=int, default=0, help="added to every default port")
    parser.add_argument(
        "--port", action="append", default=[], metavar="SERVICE=PORT", help="one service's port (repeatable)"
    )
    parser.add_argument(
        "--routing-policy",
        default="",
        help="the agent's ROUTING_POLICY (default <project>/models/routing/policy.json)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=commands.DEFAULT_TIMEOUT,
        help="seconds for every process to be ready",
    )
    return parser.parse_args(argv)


def layout_from(args: argparse.Namespace) -> StackLayout:
    ports = resolve_ports(args.port_offset, dict(parse_port_override(text) for text in args.port))
    state = args.state or args.project / STATE_FOLDER
    return StackLayout(project=args.project, state=state, ports=ports, routing_policy=args.routing_policy)


def main(argv=None) -> int:
    args = parse(argv)
    layout = layout_from(args)
    again = f" --state {layout.shown(layout.state)}" if args.state or args.project != PROJECT_ROOT else ""
    if args.command == "up":
        entries, seconds = commands.up(layout, args.timeout)
        print(report.up_report(layout, entries, seconds, again))
        return 0
    if args.command == "status":
        found = commands.status(layout)
        print(report.status_report(layout, found))
        return 0 if found and all(state == "ready" for _, state in found) else 1
    print(report.down_report(layout, commands.down(layout)))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
