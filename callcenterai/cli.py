"""What every command-line entry point shares: logging and one-line errors."""

from __future__ import annotations

import logging
import sys
from typing import Callable, Sequence

from callcenterai.errors import UserError


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run ``main``; a ``UserError`` becomes ``error: <message>`` on stderr and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return int(main(argv) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; outputs were left as they were", file=sys.stderr)
        return 130
