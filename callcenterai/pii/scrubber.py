"""The scrubber: every finder run over a ticket, overlaps resolved, placeholders written."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenterai.pii.entities import Entity, counts_by_type, replace_spans, without_overlaps
from callcenterai.pii.recognizers import TextFacts, structured_recognizers
from callcenterai.pii.secrets import find_credentials, find_url_secrets, may_hold_credentials


@dataclass(frozen=True)
class Scrubbed:
    text: str  # with typed placeholders (<EMAIL>, <PHONE>, ...) where personal data was
    entities: list[Entity] = field(default_factory=list)  # spans in the original text

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
            return Scrubbed(text)
        return Scrubbed(replace_spans(text, entities), entities)
