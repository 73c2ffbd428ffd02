"""Crafted tickets at the size limit: each pattern's worst case, for the tests and the benchmark.

Each entry repeats a piece that a pattern can start on, or keeps a match open
for as long as possible, so that a pattern which backtracks over what it has
already read shows it as time growing with the square of the length.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

from callcenterai.httpkit.settings import ServiceSettings

# The longest ticket the services accept (MAX_TEXT_CHARS).
SIZE_LIMIT: int = ServiceSettings.model_fields["max_text_chars"].default

# Far above any honest cost: only a pattern that backtracks reaches it.
GUARD_SECONDS = 10

# Name -> (prefix, piece repeated to the size limit).
_SHAPES: dict[str, tuple[str, str]] = {
    "issue 28: =@ then a.": ("=@", "a."),
    "e-mail: a@ repeated": ("", "a@"),
    "e-mail: dots then no @": ("", "a."),
    "e-mail: local part then @": ("", "a"),
    "e-mail: domain labels, no dot": ("x@", "a-"),
    "e-mail: domain dots": ("x@a", ".a"),
    "e-mail: a.a@ repeated": ("", "a.a@"),
    "e-mail: symbols of a local part": ("", "!#$%&'*+-/=?^_`{|}~"),
    "url userinfo: long user, no @": ("http://", "u"),
    "url userinfo: long password, no @": ("http://user:", "p"),
    "url userinfo: a:// repeated": ("=", "a://"),
    "url userinfo: schemes, no ://": ("=", "a+"),
    "url userinfo: user:pass repeated": ("=http://", "u:p"),
    "url parameter: ?token= repeated": ("", "?token="),
    "url parameter: &key= with value": ("", "&key=v"),
    "credential: password words": ("", "password "),
    "credential: keyword then spaces": ("password", " "),
    "credential: keyword colon spaces": ("password:", " "),
    "credential: spoken, long word": ("my password ", "a"),
    "credential: pin code spaces": ("pin", " "),
    "credential: token separators": ("", "api_token-"),
    "digits: one run": ("", "1"),
    "digits: spaced": ("", "1 "),
    "digits: dashed": ("", "1-"),
    "digits: dotted": ("", "1."),
    "digits: plus signs": ("", "+1 "),
    "digits: brackets": ("", "(1)"),
    "digits: phone context": ("call ", "5 "),
    "digits: arabic-indic": ("", "\u0661"),
    "ip: colons": ("", ":"),
    "ip: hex groups": ("", "ff:"),
    "ip: double colons": ("", "1::"),
    "ip: dotted quads": ("", "1.1."),
    "iban: country then digits": ("DE89", "0"),
    "iban: groups of four": ("DE89 ", "AAAA "),
    "iban: country codes": ("", "DE89"),
    "card: groups of four": ("", "4111 "),
    "ssn: dashed groups": ("", "123-45-"),
    "mac: pairs and colons": ("", "aa:"),
    "mac: pairs and dashes": ("", "0a-"),
    "passport: context words": ("", "passport no "),
    "passport: long id": ("passport ", "A1"),
    "phone context: words and digits": ("", "phone 1 "),
    "whitespace: newlines": ("", "\n"),
    "letters: one word": ("", "x"),
    "unicode: accented": ("", "\u00e9"),
    "mixed: every finder": ("", "a1.b2:c3@d4 pw=x5 &key=v passport 12 call 4111 1111 DE89 -:- "),
}


def adversarial_corpus(size: int = SIZE_LIMIT) -> dict[str, str]:
    """Every shape, filled to ``size`` characters."""
    corpus = {}
    for name, (prefix, piece) in _SHAPES.items():
        repeats = -(-(size - len(prefix)) // len(piece))
        corpus[name] = (prefix + piece * repeats)[:size]
    return corpus


@contextmanager
def guard(seconds: int = GUARD_SECONDS):
    """An alarm only a stall reaches: the tests hold no wall-clock bar, the benchmark measures."""

    def stop(signum, frame):
        raise TimeoutError(f"scrubbing ran past the {seconds} s guard: a pattern backtracks")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
