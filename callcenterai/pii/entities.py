"""What the scrubber finds: typed spans, and the rule for spans that overlap."""

from __future__ import annotations

from typing import NamedTuple

# Every type the scrubber can report, in the order pages and metrics list them.
# The placeholder written in place of a span is the type in angle brackets.
ENTITY_TYPES = (
    "EMAIL",
    "PHONE",
    "CARD",
    "IBAN",
    "IP",
    "SSN",
    "PASSPORT",
    "MAC",
    "CREDENTIAL",
    "URL_SECRET",
    "PERSON",
)
STRUCTURED_TYPES = ENTITY_TYPES[:-1]

# When findings overlap, the more specific type names the span: a card number is
# also a run of digits a phone matcher may read.
_PRIORITY = {
    name: rank
    for rank, name in enumerate(
        (
            "URL_SECRET",
            "CREDENTIAL",
            "CARD",
            "IBAN",
            "SSN",
            "PASSPORT",
            "MAC",
            "IP",
            "EMAIL",
            "PHONE",
            "PERSON",
        )
    )
}


class Entity(NamedTuple):
    """A span of the original text; ordered by start, then end (a tuple: a crafted ticket makes thousands)."""

    start: int
    end: int
    type: str

    @property
    def placeholder(self) -> str:
        return f"<{self.type}>"


def without_overlaps(found: list[Entity]) -> list[Entity]:
    """Overlapping findings become one span covering them all, typed by the most specific.

    The union, not the longest: whatever any finder took stays redacted.
    """
    merged: list[Entity] = []
    for entity in sorted(found):
        if merged and entity.start < merged[-1].end:
            last = merged[-1]
            winner = min(last.type, entity.type, key=_PRIORITY.__getitem__)
            merged[-1] = Entity(last.start, max(last.end, entity.end), winner)
        else:
            merged.append(entity)
    return merged


def replace_spans(text: str, entities: list[Entity], typed: bool = True) -> str:
    """The text with each (non-overlapping, sorted) span replaced by its placeholder, or a space."""
    pieces, position = [], 0
    for entity in entities:
        pieces += [text[position : entity.start], entity.placeholder if typed else " "]
        position = entity.end
    pieces.append(text[position:])
    return "".join(pieces)


def counts_by_type(entities: list[Entity]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entity in entities:
        counts[entity.type] = counts.get(entity.type, 0) + 1
    return counts
