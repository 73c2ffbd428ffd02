"""Make the secret files docker-compose.yml mounts (one random value per file), or fix their modes.

  python scripts/make_secrets.py [--dir secrets]
  python scripts/add_reviewer.py alice --file secrets/reviewers && python scripts/make_secrets.py

Writes each missing secret of the compose stack into the folder (default
./secrets, which git ignores): the admin API key, the two client keys, the
session secret, the review database's password, Grafana's admin password, the
team configuration's MLflow database password and S3 keys, and an empty
reviewers file. An existing file is kept, so running it again never
changes a key the stack already uses; delete a file to make a new value.

The folder is readable by its owner only. The files in it are readable by
anyone who can reach them: compose mounts each one into its containers as is
(it cannot change a file's owner or mode), and the services run as their own
users, not as the owner. Run it again after add_reviewer.py, which writes the
reviewers file for its owner only.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT

# File name (the compose secret's source) -> random bytes of its value, hex-encoded (two characters each).
SECRETS = {
    "callcenterai_api_key": 32,
    "backend_client_key": 32,
    "agent_client_key": 32,
    "session_secret": 32,
    "review_db_password": 24,
    "grafana_admin_password": 24,
    # The team configuration (docker-compose.team.yml): MLflow's PostgreSQL and its S3 keys.
    "mlflow_db_password": 24,
    "s3_access_key": 10,
    "s3_secret_key": 20,
}
REVIEWERS = "reviewers"


def make_secrets(folder: Path) -> list[str]:
    """Write the missing secrets into ``folder``; the names of those written."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    written = []
    for name, size in SECRETS.items():
        path = folder / name
        if not path.exists():
            path.write_text(secrets.token_hex(size) + "\n")
            written.append(name)
    if not (folder / REVIEWERS).exists():
        (folder / REVIEWERS).touch()
        written.append(REVIEWERS)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o644)
    return written


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--dir", type=Path, default=PROJECT_ROOT / "secrets", help="the secrets folder")
    args = parser.parse_args(argv)
    written = make_secrets(args.dir)
    print(f"{args.dir}: {', '.join(written) if written else 'nothing new'} written", file=sys.stderr)
    if not (args.dir / REVIEWERS).stat().st_size:
        print(
            f"nobody can sign in yet: python scripts/add_reviewer.py NAME --file {args.dir / REVIEWERS}"
            " && python scripts/make_secrets.py",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
