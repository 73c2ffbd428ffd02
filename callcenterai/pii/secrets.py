"""Credentials written into tickets, and secrets carried in URLs.

Presidio has no recogniser for either, so these are ours. Only the value is
replaced ("my password is <CREDENTIAL>"): the word "password" is what tells
the model the ticket is about access.
"""

from __future__ import annotations

import re

from callcenterai.pii.entities import Entity

_KEYWORD = (
    r"pass(?:word|wd|code|phrase)?|pwd|pin(?:\s+code)?|secret|api[\s_-]?key|access[\s_-]?key"
    r"|(?:auth|access|api)?[\s_-]?token|one[\s-]time[\s-]code|otp"
)
# "password: x", "pwd=x": after a colon or an equals sign, whatever follows is the value.
_EXPLICIT = re.compile(rf"\b(?:{_KEYWORD})\s*[:=]\s*(?P<value>[\"']?[^\s\"']{{2,100}}[\"']?)", re.I)
# "my password is x", "new password x": only a value that looks like a secret, so
# "my password is expired" and "password reset" stay as they are.
_SPOKEN = re.compile(
    rf"\b(?:{_KEYWORD})(?:(?:\s+\w+){{0,3}}?\s+(?:is|was|is now|will be|set to|changed to))?"
    rf"\s+(?P<value>[\"']?[^\s\"']{{4,100}}[\"']?)",
    re.I,
)
_URL_PARAMETER = re.compile(
    r"[?&;](?:access_token|api_key|apikey|auth|code|key|password|pwd|secret|session(?:id)?|sig"
    r"|signature|token)=(?P<value>[^&\s#\"'<>]+)",
    re.I,
)
# The password in http://user:password@host.
_URL_USERINFO = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<value>[^/\s@]+)@", re.I)
# Sentence punctuation after a value; "!" and "?" stay in it: passwords end with them more often.
_TRAILING = ".,;:)]}\"'"


def looks_secret(value: str) -> bool:
    """Digits, symbols or inner capitals: not an ordinary word."""
    inner = value[1:]
    return any(c.isdigit() for c in value) or not value.isalpha() or any(c.isupper() for c in inner)


def _value_span(match: re.Match) -> tuple[int, int, str]:
    start, end = match.span("value")
    value = match.group("value")
    stripped = value.rstrip(_TRAILING).lstrip("\"'")
    start += len(value) - len(value.lstrip("\"'"))
    return start, start + len(stripped), stripped


def find_credentials(text: str) -> list[Entity]:
    found = []
    for pattern, must_look_secret in ((_EXPLICIT, False), (_SPOKEN, True)):
        for match in pattern.finditer(text):
            if match.start() and text[match.start() - 1] in "?&;":
                continue  # a URL parameter: find_url_secrets takes it, up to the next "&"
            start, end, value = _value_span(match)
            if len(value) >= 2 and (not must_look_secret or looks_secret(value)):
                found.append(Entity(start, end, "CREDENTIAL"))
    return found


def find_url_secrets(text: str) -> list[Entity]:
    found = []
    for pattern in (_URL_PARAMETER, _URL_USERINFO):
        for match in pattern.finditer(text):
            start, end, value = _value_span(match)
            if value:
                found.append(Entity(start, end, "URL_SECRET"))
    return found


def may_hold_credentials(text: str) -> bool:
    """A cheap test that lets most tickets skip the patterns."""
    lowered = text.lower()
    return any(word in lowered for word in ("pass", "pwd", "pin", "secret", "key", "token", "otp", "code"))
