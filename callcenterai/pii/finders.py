"""The two shapes of finder the scrubber runs, and the facts about a ticket that gate them.

A pattern finder reports every match of its pattern. A checked finder reads
candidates with cheap patterns over the whole text, then asks a slower check
(Presidio's validators, the phone matcher) about each candidate's short window,
so what the check costs does not grow with the ticket. A ticket with more
candidates than ``max_checks`` is crafted or a dump: the rest are redacted
unchecked, since a scrubber errs towards redaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import regex

from callcenterai.pii.budget import Budget
from callcenterai.pii.entities import Entity

# Characters kept around a candidate for the check: lookarounds and word boundaries read them.
WINDOW_MARGIN = 3
# More findings of one pattern than this and the ticket is crafted or a dump: the rest
# become one span, from the first of them to the last, without a look at each (a
# scrubber errs towards redaction, and the work per ticket stays bounded).
MAX_FINDINGS = 256


@dataclass(frozen=True)
class TextFacts:
    """What the gates read, computed once per ticket."""

    digits: int
    has_at: bool
    has_colon: bool
    has_dot: bool
    lowered: str

    @classmethod
    def of(cls, text: str) -> TextFacts:
        return cls(sum(map(str.isdigit, text)), "@" in text, ":" in text, "." in text, text.lower())


def always(facts: TextFacts) -> bool:
    return True


@dataclass(frozen=True)
class Finder:
    type: str
    find: Callable[[str, Budget], list[Entity]]
    applies: Callable[[TextFacts], bool] = always
    # Every pattern it runs over the whole ticket (what the audit in tests/pii reads).
    patterns: tuple[regex.Pattern, ...] = field(default=())


def whole_match(match: regex.Match) -> tuple[int, int]:
    return match.span()


Span = Callable[[regex.Match], tuple[int, int]]


def capped(
    matches: list[regex.Match], span: Span = whole_match
) -> tuple[list[regex.Match], list[tuple[int, int]]]:
    """The first MAX_FINDINGS matches, to look at one by one, and the span that covers the rest (if any)."""
    if len(matches) <= MAX_FINDINGS:
        return matches, []
    return matches[:MAX_FINDINGS], [(span(matches[MAX_FINDINGS])[0], span(matches[-1])[1])]


def pattern_finder(
    type: str,
    pattern: regex.Pattern,
    applies: Callable[[TextFacts], bool],
    span: Span = whole_match,
) -> Finder:
    def find(text: str, budget: Budget) -> list[Entity]:
        matches, rest = capped(budget.scan(pattern, text, type), span)
        return [Entity(*span(m), type) for m in matches] + [Entity(*s, type) for s in rest]

    return Finder(type, find, applies, (pattern,))


Check = Callable[[str], list[tuple[int, int]]]  # the spans it confirms in a window
# Given the ticket, the test for candidates taken without a check (a phone-shaped run next to "phone").
Vouching = Callable[[str, Budget], Callable[[int, int], bool]]


def _nothing_vouched(text: str, budget: Budget) -> Callable[[int, int], bool]:
    return lambda start, end: False


@dataclass(frozen=True)
class CheckedFinder:
    type: str
    candidates: tuple[regex.Pattern, ...]
    check: Check
    max_checks: int
    vouching: Vouching = _nothing_vouched
    # A longer candidate is no single value of its kind: redacted unchecked.
    max_window: int = 128

    def find(self, text: str, budget: Budget) -> list[Entity]:
        spans = sorted({m.span() for p in self.candidates for m in budget.scan(p, text, self.type)})
        if not spans:
            return []
        vouched = self.vouching(text, budget)
        tail = spans[MAX_FINDINGS:]
        found = [Entity(tail[0][0], max(end for _, end in tail), self.type)] if tail else []
        checks, last_unchecked = 0, None
        for start, end in spans[:MAX_FINDINGS]:
            if checks >= self.max_checks or end - start > self.max_window or vouched(start, end):
                if found and found[-1] is last_unchecked and start - last_unchecked.end <= 1:
                    # One placeholder for a crafted row of them.
                    start, end = last_unchecked.start, max(end, last_unchecked.end)
                    found.pop()
                last_unchecked = Entity(start, end, self.type)
                found.append(last_unchecked)
                continue
            budget.left(self.type)
            checks += 1
            offset = max(0, start - WINDOW_MARGIN)
            window = text[offset : end + WINDOW_MARGIN]
            found += [Entity(offset + s, offset + e, self.type) for s, e in self.check(window)]
        return found

    def as_finder(self, applies: Callable[[TextFacts], bool]) -> Finder:
        return Finder(self.type, self.find, applies, self.candidates)
