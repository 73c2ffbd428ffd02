"""Add (or replace) a reviewer in the web interface's reviewers file (REVIEWERS_FILE).

  python scripts/add_reviewer.py alice --file reviewers.txt          # asks for the password
  printf '%s' "$PASSWORD" | python scripts/add_reviewer.py alice --file reviewers.txt --password-stdin

Only the argon2 hash is written; keep the file out of git and images (mount it).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.errors import UserError

MIN_PASSWORD = 12


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("name", help="the reviewer's sign-in name (letters, digits, _ . @ -)")
    parser.add_argument("--file", type=Path, required=True, help="the reviewers file to update")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)
    from callcenterai.web.accounts import NAME, hash_password, read_reviewers

    if not NAME.match(args.name):
        raise UserError(f"reviewer name {args.name!r}: use 1-64 letters, digits, _ . @ or -")
    password = sys.stdin.read().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    reviewers = read_reviewers(args.file) if args.file.exists() else {}
    reviewers[args.name] = hash_password(password)
    staged = args.file.with_name(args.file.name + ".tmp")
    staged.write_text("".join(f"{name}:{hashed}\n" for name, hashed in sorted(reviewers.items())))
    staged.chmod(0o600)
    staged.replace(args.file)
    print(f"{args.name}: written to {args.file} ({len(reviewers)} reviewers)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
