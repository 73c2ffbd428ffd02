"""What every command-line entry point shares: logging, an argument parser and one-line errors."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, NoReturn, Sequence

from callcenterai.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, like every other error (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def parser_for(doc: str | None) -> ArgumentParser:
    """A script's parser, with its module docstring as the --help text."""
    return ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


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
