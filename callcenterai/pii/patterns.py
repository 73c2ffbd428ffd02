"""Our own patterns for the structured kinds, every one linear on untrusted text.

Each quantifier is bounded, or is a possessive repeat that ends the pattern (the
phone-shaped run): that one fails within its first few digits or ends a match,
and the search goes on after the match, so no character is read twice.
tests/pii/test_patterns.py audits every pattern the scrubber runs against
these rules (tests/pii/regex_audit.py).
"""

from __future__ import annotations

import regex

# An e-mail address: Presidio's characters, in bounded labels. The search is for the
# "@" (the engine skips to it), and the local part is read backwards from there, in
# a look-behind: up to 256 characters, and never past the "@" before it, so no
# character is read twice however many "@" a ticket holds. The address is the span
# from the start of the group "local" to the end of the match.
_LOCAL = r"[!#$%&'*+\-/=?^_`{|}~\w.]"
EMAIL = regex.compile(
    rf"(?<=(?P<local>{_LOCAL}{{1,256}}))@\w[\w-]{{0,62}}+(?:\.\w[\w-]{{0,62}}+){{1,16}}+", regex.I
)

# A network card's address: six hex pairs split by ":" or "-", or three groups of four split by ".".
MAC = regex.compile(
    r"(?<![\w.:-])(?:[0-9a-f]{2}(?::[0-9a-f]{2}){5}|[0-9a-f]{2}(?:-[0-9a-f]{2}){5}"
    r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})(?![\w:-]|\.\w)",
    regex.I,
)

# A passport number: 6 to 9 letters and digits, at least one digit, after the word
# in one of the languages tickets are written in, and "no", "number", "is"...
_PASSPORT_WORD = r"(?:passport|passeport|reisepass|pasaporte|passaporto|paspoort|paszport)"
_GAP = r"[\s.:#=\-]{0,4}+"
PASSPORT = regex.compile(
    rf"(?<![a-z]){_PASSPORT_WORD}(?:{_GAP}(?:(?:number|numero|número|num|nr|no|id)\b|n°|nº))?"
    rf"(?:{_GAP}(?:is|was)\b)?{_GAP}(?P<value>(?=[a-z]{{0,8}}\d)[a-z0-9]{{6,9}})(?![a-z0-9])",
    regex.I,
)

# Phone-shaped: a run of 7 or more digits split by what phonenumbers accepts between
# them (spaces, dashes, dots, brackets, slashes and their full-width forms). The run
# is read to its end, once: it starts only where no digit or letter is before it,
# and the last repeat never gives back (so several numbers in a row are one run).
_PHONE_SEPARATOR = (
    r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d\uff0f.()\uff08\uff09\uff3b\uff3d\[\]/~"
    r"\u2053\u223c\uff5e\xad\u200b\u2060]"
)
PHONE_SHAPED = regex.compile(
    rf"(?<![\w+\uff0b])[+\uff0b]?[(\uff08\[]?\d(?:{_PHONE_SEPARATOR}{{0,4}}+\d){{6,}}+"
)
# Words that make a phone-shaped run a phone number, whatever its range.
PHONE_CONTEXT = regex.compile(
    r"\b(?:(?:tele|cell|smart|mobile|home|work|desk|i)?phones?|tel|fax|mobiles?|mob|cell|cellular"
    r"|call(?:ed|ing|back)?|dial(?:led|ing)?|ext|extension|whats\s?app|numbers?|sms|reach|contact|hotline"
    r"|landline)\b",
    regex.I,
)
# How far from a phone-shaped run its context word may be.
PHONE_CONTEXT_BEFORE, PHONE_CONTEXT_AFTER = 40, 20

# US social security numbers, as candidates (recognizers.SSN_PATTERNS checks them).
SSN = regex.compile(r"\b[0-9]{3}[-. ][0-9]{2}[-. ][0-9]{4}\b")
