"""A time budget per call: past its deadline the scrubber refuses, says why, and returns nothing partial."""

from __future__ import annotations

import time

import pytest
import regex

from callcenterai.errors import NotReady
from callcenterai.pii.budget import Budget
from callcenterai.pii.finders import Finder
from callcenterai.pii.scrubber import Scrubber, ScrubTimeout
from tests.pii.adversarial import guard

TEXT = "mail jane@corp.example.com or call +44 20 7946 0958"


def test_a_deadline_already_past_refuses_with_the_reason(scrubber):
    with pytest.raises(ScrubTimeout, match=f"a {len(TEXT)}-character ticket ran past its time budget"):
        scrubber.scrub(TEXT, deadline=time.monotonic() - 1)


def test_a_timeout_is_answered_like_any_service_not_ready():
    assert issubclass(ScrubTimeout, NotReady)


def test_a_deadline_in_time_changes_nothing(scrubber):
    assert scrubber.scrub(TEXT, deadline=time.monotonic() + 60) == scrubber.scrub(TEXT)


def test_a_pattern_past_the_deadline_is_stopped_inside_the_regex_engine():
    """(a|aa)+$ on forty a's and a b takes minutes; the regex module's timeout stops it."""
    budget = Budget(time.monotonic() + 0.05, 41)
    with guard(), pytest.raises(ScrubTimeout, match="stopped at TEST"):
        budget.scan(regex.compile(r"(a|aa)+$"), "a" * 40 + "b", "TEST")


def test_a_finder_that_cannot_be_interrupted_still_fails_closed():
    """Name detection cannot be stopped midway: past the deadline its result is thrown away."""
    slow = Scrubber()
    slow.finders.append(Finder("PERSON", lambda text, budget: time.sleep(0.5) or []))
    with pytest.raises(ScrubTimeout, match="stopped at the last finder"):
        slow.scrub(TEXT, deadline=time.monotonic() + 0.3)
