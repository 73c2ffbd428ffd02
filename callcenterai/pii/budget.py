"""A time budget for scrubbing one ticket, and the error that says it ran out.

Every pattern the scrubber runs is linear in the text (tests/pii/test_patterns.py
holds that), so the budget is a guard against load and against what no audit
of patterns covers (the phone matcher, name detection), not the defence
against crafted tickets. Running out fails closed: no partly scrubbed text
leaves the scrubber.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import regex

from callcenterai.errors import NotReady


class ScrubTimeout(NotReady):
    """Scrubbing a ticket ran past its deadline; the message says the ticket's length and where it stopped.

    A NotReady: the services answer 503 with the message, and the caller may try again.
    """


@dataclass(frozen=True)
class Budget:
    deadline: float | None  # on time.monotonic()'s clock; None: no limit
    chars: int  # the ticket's length, for the message

    def left(self, step: str) -> float | None:
        """Seconds left before ``step`` starts; raises ScrubTimeout when none are."""
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.timeout(step)
        return left

    def scan(self, pattern: regex.Pattern, text: str, step: str) -> list[regex.Match]:
        """Every match, the regex engine stopped at the deadline too (the ``regex`` module's timeout)."""
        try:
            return list(pattern.finditer(text, timeout=self.left(step)))
        except TimeoutError:
            raise self.timeout(step) from None

    def timeout(self, step: str) -> ScrubTimeout:
        return ScrubTimeout(
            f"scrubbing personal data from a {self.chars}-character ticket ran past its time budget "
            f"(stopped at {step}); the ticket was not processed, try again"
        )
