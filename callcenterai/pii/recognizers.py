"""The structured personal data: our patterns, with Presidio's validators as the checks (offline).

Presidio's ``AnalyzerEngine()`` would load (and try to download) a spaCy model;
its recognisers used directly need none. They are run here only on short
windows around candidates our bounded patterns found (see finders.py): over a
whole crafted ticket the phone matcher and Presidio's bookkeeping per match
would cost hundreds of times more than the patterns. Each finder runs only on
text that could hold what it looks for (digits for numbers, an "@" for e-mail
addresses), so the usual ticket costs a few string scans.
"""

from __future__ import annotations

import bisect
import os
from typing import Callable

# Presidio picks a device for its NLP engines at import by importing torch when it is
# installed (hundreds of MB); pattern recognisers need no device.
os.environ.setdefault("PRESIDIO_DEVICE", "cpu")
# Importing Presidio's recognisers imports tldextract, which would fetch the public-suffix
# list, with no timeout, if anything asked it; empty means "use the snapshot in the package".
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

import regex  # noqa: E402
from presidio_analyzer import Pattern, PatternRecognizer  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from callcenterai.pii import patterns  # noqa: E402
from callcenterai.pii.budget import Budget  # noqa: E402
from callcenterai.pii.finders import Check, CheckedFinder, Finder, TextFacts, pattern_finder  # noqa: E402

# National formats are read in these regions; international (+...) ones in any.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN")
# Candidates checked per ticket and kind; fewer phone ones: the phone matcher is the slowest check.
MAX_CHECKS, MAX_PHONE_CHECKS = 16, 4
# Presidio's weaker SSN patterns (any nine digits, ZIP+4) would take order and ticket numbers.
SSN_PATTERNS = [
    Pattern("SSN dashed", r"\b([0-9]{3})-([0-9]{2})-([0-9]{4})\b", 0.5),
    Pattern("SSN spaced or dotted", r"\b([0-9]{3})[ .]([0-9]{2})[ .]([0-9]{4})\b", 0.5),
]


def presidio_check(recognizer: PatternRecognizer | PhoneRecognizer) -> Check:
    entity = recognizer.supported_entities[0]

    def check(window: str) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in recognizer.analyze(window, [entity], None)]

    return check


def candidates_of(recognizer: PatternRecognizer) -> tuple[regex.Pattern, ...]:
    """The recogniser's own patterns as candidates, made cheaper where they would be slow.

    The IP zone id ("%eth0") is bounded like the rest, and the IPv6 patterns, a
    dozen alternatives tried at every letter, first look for what every one of
    those alternatives starts with: two ":" with at most four hex digits before
    each ("fe80::", "2001:db8:", "::").
    """
    found = []
    for pattern in recognizer.patterns:
        text = pattern.regex.replace("%[0-9a-zA-Z]+)", "%[0-9a-zA-Z]{1,64})")
        if text.startswith(_IPV6_START):
            text = _IPV6_START + "(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)" + text[len(_IPV6_START) :]
        found.append(regex.compile(text, recognizer.global_regex_flags))
    return tuple(found)


_IPV6_START = r"(?<![\w:])"


def phone_context_in(text: str, budget: Budget) -> Callable[[int, int], bool]:
    """Whether a phone-like word is just before or after a span: then it is a phone number, in any range."""
    words = [m.span() for m in budget.scan(patterns.PHONE_CONTEXT, text, "PHONE")]
    starts, ends = [start for start, _ in words], [end for _, end in words]

    def near(start: int, end: int) -> bool:
        before = bisect.bisect_left(ends, start - patterns.PHONE_CONTEXT_BEFORE)
        after = bisect.bisect_left(starts, end)
        return (before < len(ends) and ends[before] <= start) or (
            after < len(starts) and starts[after] <= end + patterns.PHONE_CONTEXT_AFTER
        )

    return near


def checked(kind: str, recognizer: PatternRecognizer, candidates: tuple[regex.Pattern, ...]) -> CheckedFinder:
    return CheckedFinder(kind, candidates, presidio_check(recognizer), MAX_CHECKS)


def structured_finders() -> list[Finder]:
    card, iban, ip = CreditCardRecognizer(), IbanRecognizer(), IpRecognizer()
    # IPv6 (with ":") and IPv4 (with ".") apart, so that each runs only on text with its separator.
    ip_v6 = tuple(p for p in candidates_of(ip) if p.pattern.startswith(_IPV6_START))
    ip_v4 = tuple(p for p in candidates_of(ip) if not p.pattern.startswith(_IPV6_START))
    phone = PhoneRecognizer(supported_regions=PHONE_REGIONS)
    phones = CheckedFinder(
        "PHONE", (patterns.PHONE_SHAPED,), presidio_check(phone), MAX_PHONE_CHECKS, phone_context_in
    )
    phone_patterns = (patterns.PHONE_SHAPED, patterns.PHONE_CONTEXT)
    return [
        pattern_finder("EMAIL", patterns.EMAIL, lambda f: f.has_at, lambda m: (m.start("local"), m.end())),
        Finder("PHONE", phones.find, lambda f: f.digits >= 7, phone_patterns),
        checked("CARD", card, candidates_of(card)).as_finder(lambda f: f.digits >= 12),
        checked("IBAN", iban, candidates_of(iban)).as_finder(lambda f: f.digits >= 8),
        checked("IP", ip, ip_v4).as_finder(lambda f: f.has_dot and f.digits >= 4),
        checked("IP", ip, ip_v6).as_finder(lambda f: f.has_colon),
        checked("SSN", UsSsnRecognizer(patterns=SSN_PATTERNS), (patterns.SSN,)).as_finder(
            lambda f: f.digits >= 9
        ),
        pattern_finder(
            "PASSPORT",
            patterns.PASSPORT,
            lambda f: f.digits >= 1 and "pas" in f.lowered,
            lambda m: m.span("value"),
        ),
        pattern_finder("MAC", patterns.MAC, _may_hold_mac),
    ]


def _may_hold_mac(facts: TextFacts) -> bool:
    """Five ":" or "-" (six pairs), or two "." and a digit (three groups of four hex digits)."""
    lowered = facts.lowered
    return (
        lowered.count(":") >= 5 or lowered.count("-") >= 5 or (facts.digits >= 1 and lowered.count(".") >= 2)
    )
