"""Manage registered models: register, staging, production (behind a metric gate), rollback.

  python scripts/mlflow_registry.py register [--run-id ID] [--model tfidf|transformer]
  python scripts/mlflow_registry.py staging [--version N]
  python scripts/mlflow_registry.py challenger --version N [--reason "..."]
  python scripts/mlflow_registry.py challenger --clear [--reason "..."]
  python scripts/mlflow_registry.py production [--version N] [--force --reason "..."]
  python scripts/mlflow_registry.py rollback [--reason "..."]
  python scripts/mlflow_registry.py archive --version N
  python scripts/mlflow_registry.py list | show N | history
  python scripts/mlflow_registry.py policy [--test-data CSV]
  python scripts/mlflow_registry.py publish --to URI

After `production` or `rollback` the routing policy follows: the one logged for
the versions now in production, else the pipeline's models/routing when it was
fitted for them, else one fitted on the test split (`policy` does only this
step). `publish` copies both production versions and their policy to another
store, such as a stack's MLflow server (http://127.0.0.1:5000).

The `challenger` is the version the classifier services shadow beside
production (same labels as production, never production itself). `production`
of a version with live evidence (tickets shadowed to it, in the review store at
DATABASE_URL, else the project's review.db) prints that evidence beside the
gate's and refuses the version when reviewed tickets show it worse than
production by more than the tolerance, once `min_reviewed_tickets` are reviewed.

Aliases `staging`, `challenger` and `production` are the source of truth; the
legacy stage field is kept in step. Reads the `registry` section of params.yaml
(gate metric, tolerance, min_reviewed_tickets). The store is MLFLOW_TRACKING_URI,
else sqlite:///<project>/mlflow.db.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from callcenterai.cli import ArgumentParser, UserError, parser_for, run
from callcenterai.config import RegistryParams, load_section
from callcenterai.kinds import KIND_NAMES
from callcenterai.registry.live_gate import live_check
from callcenterai.registry.policy_sync import ensure_policy
from callcenterai.registry.promotion import KEY_METRICS, Registry
from callcenterai.registry.publishing import publish
from callcenterai.registry.rescoring import rescoring
from callcenterai.registry.store import RegistryError
from callcenterai.routing.params import FitRoutingParams

# Relative to the project the command runs in, as register's models/<kind> is.
DEFAULT_TEST_DATA = Path("data") / "processed" / "test.csv"
DEFAULT_POLICY = Path("models") / "routing"


def _parser() -> ArgumentParser:
    parser = parser_for(__doc__)
    common = ArgumentParser(add_help=False)
    common.add_argument("--model", choices=KIND_NAMES, default="tfidf")
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register", parents=[common], help="register a run's model")
    register.add_argument("--run-id", help="default: the run that made --model-dir's model")
    register.add_argument(
        "--model-dir",
        type=Path,
        help="model folder whose card names the run (default: models/<model> here; "
        "without one, the newest evaluated run)",
    )
    staging = commands.add_parser("staging", parents=[common], help="move a version to staging")
    staging.add_argument("--version", help="default: the newest version")
    staging.add_argument("--reason", default="")
    challenger = commands.add_parser(
        "challenger", parents=[common], help="set or clear the version shadowed beside production"
    )
    which = challenger.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", help="the version to make the challenger")
    which.add_argument("--clear", action="store_true", help="no challenger any more")
    challenger.add_argument("--reason", default="")
    production = commands.add_parser("production", parents=[common], help="move a version to production")
    production.add_argument("--version", help="default: the newest version")
    production.add_argument(
        "--force", action="store_true", help="override a failed gate or live evidence (needs --reason)"
    )
    production.add_argument("--reason", default="")
    production.add_argument(
        "--test-data", type=Path, default=DEFAULT_TEST_DATA, help="split to re-score both versions on"
    )
    rollback = commands.add_parser(
        "rollback", parents=[common], help="restore the previous production version"
    )
    rollback.add_argument("--reason", default="")
    archive = commands.add_parser("archive", parents=[common], help="archive a version")
    archive.add_argument("--version", required=True)
    archive.add_argument("--reason", default="")
    commands.add_parser("list", parents=[common], help="table of versions")
    show = commands.add_parser("show", parents=[common], help="everything about one version")
    show.add_argument("version")
    commands.add_parser("history", parents=[common], help="every transition, oldest first")
    policy = commands.add_parser("policy", help="find, log or fit the routing policy for production")
    policy.add_argument("--test-data", type=Path, default=DEFAULT_TEST_DATA, help="split to fit a policy on")
    publish = commands.add_parser("publish", help="copy production models and policy to another store")
    publish.add_argument("--to", required=True, dest="target", help="tracking URI of the store to publish to")
    return parser


def _created(version) -> str:
    stamp = dt.datetime.fromtimestamp(version.creation_timestamp / 1000, tz=dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M")


def _print_table(rows: list[list[str]]) -> None:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _metric_cell(tag: str | None) -> str:
    """A metric tag rounded for the table (tags hold six decimals); '-' when absent."""
    try:
        return f"{float(tag):.4f}"
    except (TypeError, ValueError):
        return "-"


def _list(registry: Registry) -> None:
    versions = registry.versions()
    if not versions:
        print(f"{registry.name} has no versions yet in {registry.uri}")
        return
    rows = [["version", "aliases", "stage", *KEY_METRICS, "created (UTC)", "run id"]]
    for v in versions:
        rows.append(
            [
                v.version,
                ",".join(sorted(v.aliases or [])) or "-",
                v.current_stage,
                *[_metric_cell(v.tags.get(m)) for m in KEY_METRICS],
                _created(v),
                v.run_id or "-",
            ]
        )
    _print_table(rows)


def _show(registry: Registry, number: str) -> None:
    v = registry.version(number)
    print(f"{registry.name} version {v.version}")
    for key, value in [
        ("aliases", ",".join(v.aliases or []) or "-"),
        ("stage", v.current_stage),
        ("created (UTC)", _created(v)),
        ("run id", v.run_id),
        ("source", v.source),
    ]:
        print(f"  {key:<20} {value}")
    for key in sorted(v.tags):
        if not key.startswith("transition."):
            print(f"  {key:<20} {v.tags[key]}")


def _history(registry: Registry) -> None:
    events = registry.history()
    if not events:
        print(f"{registry.name} has no recorded transitions")
        return
    rows = [["when (UTC)", "version", "from", "to", "who", "reason"]]
    rows += [[e.at, e.version, e.source, e.target, e.who, e.reason] for e in events]
    _print_table(rows)


def _follow_policy(uri: str, test_data: Path, required: bool = False) -> None:
    """The routing policy for the production versions; a promotion succeeds even when this cannot."""
    try:
        outcome = ensure_policy(uri, test_data, DEFAULT_POLICY, load_section("fit_routing", FitRoutingParams))
    except RegistryError as exc:
        if required:
            raise
        print(f"routing policy: not updated: {exc}")
        return
    stored = outcome.stored
    print(f"routing policy: {outcome.how} (fitted at {stored.fitted_at}, run {stored.run_id})")


def _challenger(registry: Registry, args) -> None:
    if args.clear:
        event = registry.clear_challenger(args.reason)
        print(f"{registry.name} version {event.version}: challenger -> {event.target}")
        return
    event = registry.challenge(args.version, args.reason)
    print(f"{registry.name} version {event.version}: {event.source} -> challenger")
    print(f"services serving models:/{registry.name}@production shadow it after their next registry poll")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    registry = Registry(getattr(args, "model", "tfidf"), params=load_section("registry", RegistryParams))
    if args.command == "register":
        folder = args.model_dir or Path.cwd() / registry.model_kind.folder
        if args.model_dir and not (folder / "model_card.json").is_file():
            raise UserError(f"{folder}: no model_card.json; not a model folder")
        version, created = registry.register(args.run_id, folder if folder.is_dir() else None)
        verb = "registered" if created else "already registered"
        print(f"{verb}: {registry.name} version {version.version} (run {version.run_id})")
        print(
            "next: python scripts/mlflow_registry.py production "
            f"--model {args.model} --version {version.version}"
        )
    elif args.command == "staging":
        event = registry.stage(args.version, args.reason)
        print(f"{registry.name} version {event.version}: {event.source} -> staging")
    elif args.command == "challenger":
        _challenger(registry, args)
    elif args.command == "production":
        live = live_check(registry.name, registry.params)
        event = registry.promote(args.version, args.force, args.reason, rescoring(args.test_data), live)
        print(f"{registry.name} version {event.version}: {event.source} -> production")
        _follow_policy(registry.uri, args.test_data)
    elif args.command == "rollback":
        event = registry.rollback(args.reason)
        print(f"{registry.name} rolled back: version {event.version} is in production again")
        _follow_policy(registry.uri, DEFAULT_TEST_DATA)
    elif args.command == "policy":
        _follow_policy(registry.uri, args.test_data, required=True)
    elif args.command == "publish":
        for line in publish(registry.uri, args.target):
            print(line)
    elif args.command == "archive":
        event = registry.archive(args.version, args.reason)
        print(f"{registry.name} version {event.version}: {event.source} -> archived")
    elif args.command == "list":
        _list(registry)
    elif args.command == "show":
        _show(registry, args.version)
    elif args.command == "history":
        _history(registry)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
