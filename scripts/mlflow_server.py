"""Start the MLflow UI and tracking server over the project's store (default 127.0.0.1:5000).

  python scripts/mlflow_server.py [--host 127.0.0.1] [--port 5000]

Serves the sqlite store at <project>/mlflow.db (or --backend-store-uri) with
artifacts proxied from <project>/mlartifacts. One worker and no job runner: it
answers in seconds and stops cleanly. MLflow's host-header check and security
middleware stay on; --allowed-hosts widens them when it runs behind a proxy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from callcenterai.tracking import artifact_root, default_tracking_uri


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
    return command


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (keep loopback unless proxied)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--backend-store-uri", default=default_tracking_uri())
    parser.add_argument("--artifacts-destination", default=artifact_root())
    parser.add_argument("--allowed-hosts", default="", help="extra Host headers to accept, comma-separated")
    args = parser.parse_args(argv)
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = build_command(args)
    print(f"MLflow UI on http://{args.host}:{args.port}  (store {args.backend_store_uri})", flush=True)
    os.execve(command[0], command, env)  # replace this process: signals reach the server directly
    return 0


if __name__ == "__main__":
    sys.exit(main())
