"""Credentials written into tickets, and secrets carried in URLs.

Presidio has no recogniser for either, so these are ours. Only the value is
replaced ("my password is <CREDENTIAL>"): the word "password" is what tells
the model the ticket is about access.

Every quantifier is bounded (tests/pii/test_patterns.py checks it): a ticket
is untrusted text, and an unbounded repeat that can start anywhere in a long
run of matching characters costs time growing with the square of its length.
"""

from __future__ import annotations

import regex

from callcenterai.pii.budget import Budget
from callcenterai.pii.entities import Entity
from callcenterai.pii.finders import capped

# Every keyword starts with one of "psato": the look-ahead lets the engine skip other words at once.
_KEYWORD = (
    r"(?=[psato])(?:pass(?:word|wd|code|phrase)?|pwd|pw|pin(?:\s{1,4}code)?|secret|api[\s_-]?key"
    r"|access[\s_-]?key|(?:auth|access|api)[\s_-]?token|token|one[\s-]time[\s-]code|otp)"
)
_VALUE = r"(?P<value>[\"']?[^\s\"']{%d,100}[\"']?)"
# "password: x", "pwd=x": after a colon or an equals sign, whatever follows is the value.
_EXPLICIT = regex.compile(rf"\b(?:{_KEYWORD})\s{{0,8}}[:=]\s{{0,8}}{_VALUE % 2}", regex.I)
# "my password is x", "new password x": only a value that looks like a secret, so
# "my password is expired" and "password reset" stay as they are.
_SPOKEN = regex.compile(
    rf"\b(?:{_KEYWORD})(?:(?:\s{{1,8}}+\w{{1,40}}+){{0,3}}?\s{{1,8}}"
    rf"(?:is|was|is now|will be|set to|changed to))?\s{{1,8}}{_VALUE % 4}",
    regex.I,
)
_URL_PARAMETER = regex.compile(
    r"[?&;](?:access_token|api_key|apikey|auth|code|key|password|pwd|secret|session(?:id)?|sig"
    r"|signature|token)=(?P<value>[^&\s#\"'<>]{1,512})",
    regex.I,
)
# The password in http://user:password@host. Anchored on "://" rather than on the
# scheme: a scheme pattern can start at every letter of a long word.
_URL_USERINFO = regex.compile(r"://[^/\s:@]{1,256}:(?P<value>[^/\s@]{1,256})@")
CREDENTIAL_PATTERNS = (_EXPLICIT, _SPOKEN)
URL_SECRET_PATTERNS = (_URL_PARAMETER, _URL_USERINFO)
# Sentence punctuation after a value; "!" and "?" stay in it: passwords end with them more often.
_TRAILING = ".,;:)]}\"'"
# Substrings of every keyword above: a ticket without any skips the patterns.
CREDENTIAL_HINTS = ("pass", "pw", "pin", "secret", "key", "token", "otp", "code")


def looks_secret(value: str) -> bool:
    """Digits, symbols or inner capitals: not an ordinary word."""
    inner = value[1:]
    return any(c.isdigit() for c in value) or not value.isalpha() or any(c.isupper() for c in inner)


def _value_span(match: regex.Match) -> tuple[int, int, str]:
    start, end = match.span("value")
    value = match.group("value")
    stripped = value.rstrip(_TRAILING).lstrip("\"'")
    start += len(value) - len(value.lstrip("\"'"))
    return start, start + len(stripped), stripped


def find_credentials(text: str, budget: Budget) -> list[Entity]:
    found = []
    for pattern, must_look_secret in ((_EXPLICIT, False), (_SPOKEN, True)):
        matches, rest = capped(budget.scan(pattern, text, "CREDENTIAL"))
        found += [Entity(start, end, "CREDENTIAL") for start, end in rest]
        for match in matches:
            if match.start() and text[match.start() - 1] in "?&;":
                continue  # a URL parameter: find_url_secrets takes it, up to the next "&"
            start, end, value = _value_span(match)
            if len(value) >= 2 and (not must_look_secret or looks_secret(value)):
                found.append(Entity(start, end, "CREDENTIAL"))
    return found


def find_url_secrets(text: str, budget: Budget) -> list[Entity]:
    found = []
    for pattern in URL_SECRET_PATTERNS:
        matches, rest = capped(budget.scan(pattern, text, "URL_SECRET"))
        found += [Entity(start, end, "URL_SECRET") for start, end in rest]
        for match in matches:
            start, end, value = _value_span(match)
            if value:
                found.append(Entity(start, end, "URL_SECRET"))
    return found
