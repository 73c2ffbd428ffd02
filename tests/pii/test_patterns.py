"""No ticket can stall the scrubber: every pattern it runs is linear; crafted tickets at the size limit pass.

The guarantee is structural (regex_audit.py reads each pattern's parse tree);
the crafted corpus and the random inputs run under a generous alarm that only
a stall would reach, never a wall-clock bar (benchmarks/scrub_adversarial.py
measures the time).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from callcenterai.pii.entities import replace_spans
from callcenterai.pii.finders import TextFacts
from callcenterai.pii.patterns import EMAIL, PHONE_CONTEXT, PHONE_SHAPED
from callcenterai.pii.scrubber import Scrubbed
from tests.pii.adversarial import SIZE_LIMIT, adversarial_corpus, guard
from tests.pii.regex_audit import audit

CORPUS = adversarial_corpus()
# Shapes made of phone-shaped runs only: past the checks, the rest must be redacted unchecked.
ALL_PHONE_SHAPED = [
    "digits: spaced",
    "digits: dashed",
    "digits: dotted",
    "digits: phone context",
    "digits: one run",
]
# The patterns that made the scrubber quadratic (issue 28), and textbook cases.
BACKTRACKING = [
    EmailRecognizer.PATTERNS[0].regex,
    r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<value>[^/\s@]+)@",
    r"[?&;](?:token|key)=(?P<value>[^&\s#\"'<>]+)\s",
    r"\bpassword(?:(?:\s+\w+){0,3}?\s+is)?\s+(?P<value>\S{4,100})",
    r"(a+)+$",
    r"(?:\w{1,9}){1,9}x",
    r"[a-z]++@x",
    r"(?<=[a-z]{1,5000})@",
]


def assert_consistent(text: str, scrubbed: Scrubbed) -> None:
    spans = [(e.start, e.end) for e in scrubbed.entities]
    assert all(0 <= start < end <= len(text) for start, end in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "spans overlap or are out of order"
    assert scrubbed.text == replace_spans(text, scrubbed.entities)
    assert scrubbed.model_text == replace_spans(text, scrubbed.entities, typed=False)


def test_every_pattern_the_scrubber_runs_passes_the_audit(scrubber):
    patterns = scrubber.patterns()
    assert PHONE_CONTEXT in patterns and len(patterns) >= 15
    problems = {p.pattern[:60]: audit(p.pattern, p.flags) for p in patterns}
    assert {pattern: found for pattern, found in problems.items() if found} == {}


@pytest.mark.parametrize("pattern", BACKTRACKING)
def test_the_audit_rejects_patterns_that_backtrack(pattern):
    assert audit(pattern, re.I)


def test_the_audit_accepts_a_possessive_repeat_only_at_the_end():
    assert audit(r"(?<![0-9])[0-9](?:-?[0-9]){6,}+") == []
    assert audit(r"(?<![0-9])[0-9](?:-?[0-9]){6,}+x")


def test_the_corpus_reaches_every_finder_at_the_size_limit(scrubber):
    assert all(len(text) == SIZE_LIMIT for text in CORPUS.values())
    reached = {id(f) for text in CORPUS.values() for f in scrubber.finders if f.applies(TextFacts.of(text))}
    assert reached == {id(f) for f in scrubber.finders}


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_crafted_ticket_at_the_size_limit_is_scrubbed(name, scrubber):
    text = CORPUS[name]
    with guard():
        scrubbed = scrubber.scrub(text)
    assert_consistent(text, scrubbed)
    assert not EMAIL.search(scrubbed.text)
    if name in ALL_PHONE_SHAPED:
        assert not PHONE_SHAPED.search(scrubbed.text), "phone-shaped runs past the checks must be redacted"


_ALPHABET = "aZx1950 .,:;@-_=/?&+()#%!'\"\n\t<>é١"
_WORDS = [
    "password",
    "pw",
    "passport no",
    "call",
    "://",
    "@",
    "api_key=",
    "mac",
    "phone",
    "+1 ",
    "DE89",
    "4111",
]
_JUNK = st.lists(st.one_of(st.text(_ALPHABET, max_size=30), st.sampled_from(_WORDS)), max_size=120).map(
    "".join
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_JUNK)
def test_random_text_is_scrubbed_consistently(scrubber, text):
    with guard():
        scrubbed = scrubber.scrub(text)
    assert_consistent(text, scrubbed)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=_JUNK,
    after=_JUNK,
    case=st.sampled_from([("", "jane.doe@corp.example.com"), ("phone ", "+1 555 010 0199")]),
)
def test_personal_data_amid_junk_is_still_found(scrubber, before, after, case):
    context, value = case
    text = f"{before} {context}{value} {after}"
    start = len(before) + 1 + len(context)
    with guard():
        spans = scrubber.find(text)
    assert any(e.start <= start and e.end >= start + len(value) for e in spans)
