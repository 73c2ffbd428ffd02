"""The scrubber: every finder run over a ticket, overlaps resolved, placeholders written."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenterai.pii.entities import Entity, counts_by_type, replace_spans, without_overlaps
from callcenterai.pii.recognizers import TextFacts, structured_recognizers
from callcenterai.pii.secrets import find_credentials, find_url_secrets, may_hold_credentials


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
    def __init__(self, names: bool = False):
        self.recognizers = structured_recognizers()
        self.names = None
        if names:
            from callcenterai.pii.names import NameFinder

            self.names = NameFinder()

    def find(self, text: str) -> list[Entity]:
        facts = TextFacts.of(text)
        found = [e for r in self.recognizers if r.applies(facts) for e in r.find(text)]
        if "=" in text or "://" in text:
            found += find_url_secrets(text)
        if may_hold_credentials(text):
            found += find_credentials(text)
        if self.names is not None:
            found += self.names.find(text)
        return without_overlaps(found)

    def scrub(self, text: str) -> Scrubbed:
        entities = self.find(text)
        if not entities:
            return Scrubbed(text, [], text)
        return Scrubbed(replace_spans(text, entities), entities, replace_spans(text, entities, typed=False))
