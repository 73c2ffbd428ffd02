"""The structured personal data, found by Presidio's pattern recognisers (offline).

Presidio's ``AnalyzerEngine()`` would load (and try to download) a spaCy model;
its recognisers used directly need none. Each runs only on text that could hold
what it looks for (digits for numbers, an "@" for e-mail addresses), so the
usual ticket costs a few string scans.
"""

from __future__ import annotations

import os

# The e-mail recogniser's tldextract would fetch the public-suffix list, with no
# timeout, on first use; empty means "use the snapshot in the package".
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
# Presidio picks a device for its NLP engines at import by importing torch when it is
# installed (hundreds of MB); pattern recognisers need no device.
os.environ.setdefault("PRESIDIO_DEVICE", "cpu")

from dataclasses import dataclass  # noqa: E402
from typing import Callable  # noqa: E402

from presidio_analyzer import Pattern, PatternRecognizer  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from callcenterai.pii.entities import Entity  # noqa: E402

# National formats are read in these regions; international (+...) ones in any.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN")
# Presidio's weaker SSN patterns (any nine digits, ZIP+4) would take order and ticket numbers.
SSN_PATTERNS = [
    Pattern("SSN dashed", r"\b([0-9]{3})-([0-9]{2})-([0-9]{4})\b", 0.5),
    Pattern("SSN spaced or dotted", r"\b([0-9]{3})[ .]([0-9]{2})[ .]([0-9]{4})\b", 0.5),
]


class AnyDomainEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail pattern without its public-suffix check: jane@corp.internal is personal too."""

    def validate_result(self, pattern_text: str) -> bool:
        return True


@dataclass(frozen=True)
class TextFacts:
    """What the gates read, computed once per ticket."""

    digits: int
    has_at: bool
    has_colon: bool
    has_dot: bool

    @classmethod
    def of(cls, text: str) -> TextFacts:
        return cls(sum(c.isdigit() for c in text), "@" in text, ":" in text, "." in text)


@dataclass(frozen=True)
class Recognizer:
    type: str
    presidio: PatternRecognizer | PhoneRecognizer
    entity: str  # Presidio's name for it
    applies: Callable[[TextFacts], bool]

    def find(self, text: str) -> list[Entity]:
        results = self.presidio.analyze(text, [self.entity], None)
        return [Entity(r.start, r.end, self.type) for r in results]


def structured_recognizers() -> list[Recognizer]:
    return [
        Recognizer("EMAIL", AnyDomainEmailRecognizer(), "EMAIL_ADDRESS", lambda f: f.has_at),
        Recognizer(
            "PHONE",
            PhoneRecognizer(supported_regions=PHONE_REGIONS),
            "PHONE_NUMBER",
            lambda f: f.digits >= 7,
        ),
        Recognizer("CARD", CreditCardRecognizer(), "CREDIT_CARD", lambda f: f.digits >= 12),
        Recognizer("IBAN", IbanRecognizer(), "IBAN_CODE", lambda f: f.digits >= 8),
        Recognizer(
            "IP", IpRecognizer(), "IP_ADDRESS", lambda f: f.has_colon or (f.has_dot and f.digits >= 4)
        ),
        Recognizer("SSN", UsSsnRecognizer(patterns=SSN_PATTERNS), "US_SSN", lambda f: f.digits >= 9),
    ]
