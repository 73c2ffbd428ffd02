"""The scrubber: every finder run over a ticket, overlaps resolved, placeholders written."""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from callcenterai.pii import secrets
from callcenterai.pii.budget import Budget, ScrubTimeout
from callcenterai.pii.entities import Entity, counts_by_type, replace_spans, without_overlaps
from callcenterai.pii.finders import Finder, TextFacts
from callcenterai.pii.recognizers import structured_finders

__all__ = ["Scrubbed", "Scrubber", "ScrubTimeout"]  # callers catch ScrubTimeout from here


@dataclass(frozen=True)
class Scrubbed:
    """A ticket without its personal data, in the two forms it leaves the scrubber.

    ``text`` has typed placeholders (<EMAIL>, <PHONE>, ...): what people, logs and
    the review store see. ``model_text`` has the spans removed: what the models
    see. The published training tickets carry no personal data and no placeholder
    words, and "<CARD>" would reach a model as the word "card", which means
    something in a ticket (an access card); removing the span keeps the ticket
    as the models learnt such tickets.
    """

    text: str
    entities: list[Entity] = field(default_factory=list)  # spans in the original text
    model_text: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return counts_by_type(self.entities)


class Scrubber:
    """Finds and replaces personal data; ``deadline`` (on ``time.monotonic()``'s clock) bounds one call.

    Past the deadline ``scrub`` raises ScrubTimeout (a NotReady: 503 with the
    reason) and returns nothing partly scrubbed.
    """

    def __init__(self, names: bool = False):
        self.finders = [
            *structured_finders(),
            Finder(
                "URL_SECRET", secrets.find_url_secrets, _may_hold_url_secrets, secrets.URL_SECRET_PATTERNS
            ),
            Finder(
                "CREDENTIAL", secrets.find_credentials, _may_hold_credentials, secrets.CREDENTIAL_PATTERNS
            ),
        ]
        if names:
            from callcenterai.pii.names import NameFinder

            names_finder = NameFinder()
            self.finders.append(Finder("PERSON", lambda text, budget: names_finder.find(text)))

    def find(self, text: str, deadline: float | None = None) -> list[Entity]:
        budget = Budget(deadline, len(text))
        facts = TextFacts.of(text)
        found = []
        for finder in self.finders:
            if finder.applies(facts):
                budget.left(finder.type)
                found += finder.find(text, budget)
        budget.left("the last finder")  # one that cannot be interrupted (names) may have run past it
        return without_overlaps(found)

    def scrub(self, text: str, deadline: float | None = None) -> Scrubbed:
        entities = self.find(text, deadline)
        if not entities:
            return Scrubbed(text, [], text)
        return Scrubbed(replace_spans(text, entities), entities, replace_spans(text, entities, typed=False))

    def patterns(self) -> list[regex.Pattern]:
        """Every pattern the scrubber runs over a whole ticket."""
        return [pattern for finder in self.finders for pattern in finder.patterns]


def _may_hold_url_secrets(facts: TextFacts) -> bool:
    return "=" in facts.lowered or "://" in facts.lowered


def _may_hold_credentials(facts: TextFacts) -> bool:
    """A cheap test that lets most tickets skip the patterns."""
    return any(word in facts.lowered for word in secrets.CREDENTIAL_HINTS)
