"""Start the MLflow UI and tracking server over the project's store (default 127.0.0.1:5000).

  python scripts/mlflow_server.py [--host 127.0.0.1] [--port 5000] [--auth] [--expose-prometheus DIR]

Serves the sqlite store at <project>/mlflow.db (or --backend-store-uri) with
artifacts proxied from <project>/mlartifacts. One worker and no job runner: it
answers in seconds and stops cleanly. MLflow's host-header check and security
middleware stay on; --allowed-hosts widens them when it runs behind a proxy.

The services poll the registry and load what it names, so a server reachable
beyond this host must authenticate its clients. --auth runs MLflow's own
basic-auth app: its user store is <project>/mlflow-auth.db (or --auth-db), the
first start creates the admin user from MLFLOW_AUTH_ADMIN_PASSWORD, and
MLFLOW_FLASK_SERVER_SECRET_KEY signs its sessions; both come from the
environment, never from a file in git. Clients (the pipeline, the registry
script, the services) authenticate with MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD. A non-loopback --host is refused without --auth,
unless --behind-proxy says an authenticating proxy fronts the server.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError
from callcenterai.tracking import artifact_root, default_tracking_uri

AUTH_SECRETS = ("MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_config(args: argparse.Namespace) -> Path:
    """The basic-auth app's settings file (no secret in it), written beside the store."""
    missing = [name for name in AUTH_SECRETS if not os.environ.get(name)]
    if missing:
        raise UserError(f"--auth needs {' and '.join(missing)} in the environment")
    path = Path(args.auth_db).with_suffix(".ini")
    path.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{Path(args.auth_db).resolve()}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
        encoding="utf-8",
    )
    return path


def build_command(args: argparse.Namespace) -> list[str]:
    mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    command = [
        mlflow,
        "server",
        "--backend-store-uri",
        args.backend_store_uri,
        "--artifacts-destination",
        args.artifacts_destination,
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--workers",
        "1",
    ]
    if args.allowed_hosts:
        command += ["--allowed-hosts", args.allowed_hosts]
    if args.auth:
        command += ["--app-name", "basic-auth"]
    if args.expose_prometheus:
        command += ["--expose-prometheus", args.expose_prometheus]
    return command


def parse(argv=None) -> argparse.Namespace:
    parser = parser_for(__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (keep loopback unless --auth)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--backend-store-uri", default=default_tracking_uri())
    parser.add_argument("--artifacts-destination", default=artifact_root())
    parser.add_argument("--allowed-hosts", default="", help="extra Host headers to accept, comma-separated")
    parser.add_argument("--auth", action="store_true", help="MLflow basic-auth (users and permissions)")
    parser.add_argument(
        "--expose-prometheus",
        default="",
        metavar="DIR",
        help="serve /metrics for Prometheus (needs prometheus-flask-exporter; DIR holds its worker files)",
    )
    parser.add_argument(
        "--auth-db", default=str(PROJECT_ROOT / "mlflow-auth.db"), help="basic-auth user store"
    )
    parser.add_argument(
        "--behind-proxy",
        action="store_true",
        help="a non-loopback host is fronted by an authenticating proxy",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if not is_loopback(args.host) and not (args.auth or args.behind_proxy):
        raise UserError(
            f"refusing to serve the store on {args.host} without authentication: pass --auth "
            "(MLflow basic-auth) or --behind-proxy when an authenticating proxy fronts it"
        )
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    if args.auth:
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(auth_config(args))
    command = build_command(args)
    shown = " (basic-auth)" if args.auth else ""
    print(f"MLflow UI on http://{args.host}:{args.port}{shown}  (store {args.backend_store_uri})", flush=True)
    os.execve(command[0], command, env)  # replace this process: signals reach the server directly
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
