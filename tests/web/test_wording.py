"""The figures and rules of the pages, written for people."""

from __future__ import annotations

import datetime as dt

import pytest

from callcenterai.web import wording


@pytest.mark.parametrize(
    "share, written",
    [
        (0.48638515611465044, "48.6 %"),
        (0.78, "78 %"),
        (0.7799999, "78 %"),
        (1.0, "100 %"),
        (0.0, "0 %"),
        (0.9996, "over 99.9 %"),
        (0.0004, "under 0.1 %"),
        (None, "unknown"),
    ],
)
def test_a_share_is_a_percentage_with_at_most_one_decimal(share, written):
    assert wording.percent(share) == written


@pytest.mark.parametrize(
    "number, written", [(0, "0"), (999, "999"), (12345, "12,345"), (1234567, "1,234,567")]
)
def test_a_count_has_thousands_separators(number, written):
    assert wording.count(number) == written


@pytest.mark.parametrize(
    "number, words",
    [(1, "1 ticket"), (0, "0 tickets"), (2, "2 tickets"), (12345, "12,345 tickets")],
)
def test_plural(number, words):
    assert wording.plural(number, "ticket") == words


def test_plural_with_its_own_plural_form():
    assert wording.plural(3, "policy", "policies") == "3 policies"
    assert wording.plural(1, "policy", "policies") == "1 policy"


@pytest.mark.parametrize(
    "difference, written",
    [(0.17, "17 points"), (-0.17, "17 points"), (0.005, "0.5 points"), (0.01, "1 point"), (0.0, "0 points")],
)
def test_a_difference_of_shares_is_in_percentage_points(difference, written):
    assert wording.points(difference) == written


@pytest.mark.parametrize(
    "value, written",
    [(None, "not measured"), (4.26, "4.3 ms"), (85.4, "85 ms"), (1234.5, "1.2 s")],
)
def test_milliseconds(value, written):
    assert wording.milliseconds(value) == written


@pytest.mark.parametrize(
    "value, written",
    [
        ("2026-12-05T20:02:56+00:00", "5 Dec 2026, 20:02 UTC"),
        ("2026-12-05T21:02:56+01:00", "5 Dec 2026, 20:02 UTC"),
        ("2026-01-15T08:00:00", "15 Jan 2026, 08:00 UTC"),
        (dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc), "1 Mar 2026, 09:30 UTC"),
        ("last week", "last week"),
        (None, ""),
    ],
)
def test_a_time_is_a_date_and_minute_in_utc(value, written):
    assert wording.when(value) == written


def test_listing():
    assert wording.listing([]) == ""
    assert wording.listing(["3"]) == "3"
    assert wording.listing(["3", "4"]) == "3 and 4"
    assert wording.listing(["French", "German", "Dutch"], "or") == "French, German or Dutch"


def test_a_clause_becomes_a_sentence():
    assert wording.sentence("not enough reviewed tickets yet") == "Not enough reviewed tickets yet."
    assert wording.sentence("Done.") == "Done."
    assert wording.sentence("  ") == ""


def test_the_tfidf_rule_says_how_sure_it_must_be_not_the_raw_threshold():
    said = wording.tfidf_rule(0.48638515611465044)
    assert said.startswith("TF-IDF answers alone when it is at least 48.6 % sure")
    assert "0.486" not in said


def test_no_length_rule_is_said_in_words_not_as_no_limit_words():
    said = wording.length_rule(None)
    assert said.startswith("No length rule:") and "no limit words" not in said


def test_a_length_rule_names_the_words():
    assert wording.length_rule(120) == "Both models read tickets longer than 120 words."
    assert wording.length_rule(1200) == "Both models read tickets longer than 1,200 words."


def test_the_review_rule():
    said = wording.review_rule(0.7312540300651444)
    assert said == "A ticket goes to the review queue when the answer is less than 73.1 % sure."


def test_the_language_rule_names_the_languages():
    rule = {"languages": ["en", "fr", "de", "xx"], "min_probability": 0.9, "min_words": 3}
    assert wording.language_rule(rule) == (
        "A ticket of at least 3 words that is at least 90 % likely French, German or xx "
        "goes to both models and to the review queue."
    )
    english_only = {"languages": ["en"], "min_probability": 0.9, "min_words": 3}
    assert wording.language_rule(english_only).startswith("No language rule")
