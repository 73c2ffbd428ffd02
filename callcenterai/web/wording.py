"""Figures and rules written for people: the one place the pages turn numbers into words.

Shares (confidences, accuracies, agreement) are percentages, counts have thousands separators,
times are dates, and the routing policy's thresholds are sentences. Pure functions; ``FILTERS``
are the same functions under the names the templates use.
"""

from __future__ import annotations

import datetime as dt

from callcenterai.review.evidence import plain

# Language codes the routing policy may name (py3langid's), as a reader knows them.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


def percent(share: float | None) -> str:
    """0.48638 -> "48.6 %", 0.78 -> "78 %" (at most one decimal, as the registry CLI writes them).
    A share that is not 0 or 1 is never written as 0 % or 100 %: that would say "never" or "always"."""
    if share is None:
        return "unknown"
    text = plain(100 * share)
    if 0 < share < 1 and text in ("0", "100"):
        return "under 0.1 %" if text == "0" else "over 99.9 %"
    return f"{text} %"


def count(number: int | None) -> str:
    """12345 -> "12,345"."""
    return "unknown" if number is None else f"{int(number):,}"


def plural(number: int, singular: str, plural_form: str | None = None) -> str:
    """(1, "ticket") -> "1 ticket"; (12345, "ticket") -> "12,345 tickets"."""
    word = singular if number == 1 else (plural_form or singular + "s")
    return f"{count(number)} {word}"


def points(share_difference: float) -> str:
    """A difference of two shares in percentage points: 0.17 -> "17 points", 0.005 -> "0.5 points"."""
    text = plain(100 * abs(share_difference))
    return f"{text} point" if text == "1" else f"{text} points"


def decimal(value: float | None, digits: int = 2) -> str:
    """A score that is no share (a loss, a weight): 0.48638 -> "0.49"."""
    return "unknown" if value is None else f"{value:.{digits}f}"


def milliseconds(value: float | None) -> str:
    """85.123 -> "85 ms", 1234.5 -> "1.2 s"; None -> "not measured"."""
    if value is None:
        return "not measured"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def when(value: str | dt.datetime | None) -> str:
    """An ISO time (or datetime) as a date and minute in UTC: "5 Dec 2026, 20:02 UTC"; a text
    that is no ISO time is shown as it is, none as ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:  # the project writes UTC everywhere
        value = value.replace(tzinfo=dt.timezone.utc)
    value = value.astimezone(dt.timezone.utc)
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


def listing(items: list[str], last: str = "and") -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def sentence(text: str) -> str:
    """A clause as a sentence: capital first letter, full stop at the end."""
    text = str(text).strip()
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text[-1] in ".!?" else ".")


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def tfidf_rule(threshold: float) -> str:
    return (
        f"TF-IDF answers alone when it is at least {percent(threshold)} sure; "
        "below that, both models read the ticket."
    )


def length_rule(max_words: int | None) -> str:
    if max_words is None:
        return "No length rule: a ticket of any length may be answered by TF-IDF alone."
    return f"Both models read tickets longer than {plural(max_words, 'word')}."


def review_rule(threshold: float) -> str:
    return f"A ticket goes to the review queue when the answer is less than {percent(threshold)} sure."


def language_rule(rule: dict) -> str:
    """The policy's language rule: tickets surely in another language than English."""
    others = [language_name(code) for code in rule.get("languages", []) if code != "en"]
    if not others:
        return "No language rule: every ticket is read as English."
    return (
        f"A ticket of at least {plural(rule['min_words'], 'word')} that is at least "
        f"{percent(rule['min_probability'])} likely {listing(others, 'or')} goes to both models "
        "and to the review queue."
    )


FILTERS = {
    "percent": percent,
    "count": count,
    "plural": plural,
    "points": points,
    "decimal": decimal,
    "milliseconds": milliseconds,
    "when": when,
    "listing": listing,
    "sentence": sentence,
    "tfidf_rule": tfidf_rule,
    "length_rule": length_rule,
    "review_rule": review_rule,
    "language_rule": language_rule,
}
