"""What a challenger call leaves behind: the tickets it carried, its answers checked against the
contract, and the rows the review store keeps of it (a tally per call, a row per flagged ticket)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from callcenterai.agent.backends import ChallengerFailed


@dataclass(frozen=True)
class Shadowed:
    """A ticket waiting for a backend's challenger, with what that backend's champion said of it."""

    backend: str
    text: str  # as the champion saw it: the scrubber's model_text
    champion: dict  # label, confidence, model
    challenger_version: str  # as /ready named it when the ticket was offered
    ticket_key: str | None  # the review store's key, when the ticket was flagged


def answers_of(reply, count: int) -> tuple[list[dict], str]:
    """The answers of a /predict/batch reply and the version that gave them; ChallengerFailed
    ("bad_answer") when the reply does not keep the contract."""
    try:
        answers, version = reply["predictions"], str(reply["model"]["version"])
        valid = len(answers) == count and all(
            isinstance(a["label"], str) and isinstance(a["confidence"], (int, float)) for a in answers
        )
    except (KeyError, TypeError):
        valid = False
    if not valid:
        raise ChallengerFailed("bad_answer")
    return answers, version


def tallies(
    items: list[Shadowed],
    agreed: list[bool] | None,
    version: str | None = None,
    latency_ms: float | None = None,
    error: str | None = None,
) -> list[dict]:
    """The ``shadow_calls`` rows of one call: a tally per (model, champion version, challenger
    version) among its tickets, as the champion may have changed while they waited. ``agreed``:
    for each ticket whether both gave the same label; None when the challenger gave no answer."""
    counts: dict[tuple[str, str, str], list[int]] = {}
    for number, item in enumerate(items):
        model = item.champion["model"]
        key = (model["name"], str(model["version"]), version or item.challenger_version)
        tally = counts.setdefault(key, [0, 0])
        tally[0] += 1
        tally[1] += bool(agreed and agreed[number])
    now = dt.datetime.now(dt.timezone.utc)
    return [
        {
            "created_at": now,
            "backend": items[0].backend,
            "model_name": name,
            "champion_version": champion_version,
            "challenger_version": challenger_version,
            "tickets": tickets,
            "answered": 0 if agreed is None else tickets,
            "agreed": agreed_count,
            "latency_ms": latency_ms,
            "error": error,
        }
        for (name, champion_version, challenger_version), (tickets, agreed_count) in counts.items()
    ]


def outcome_row(
    item: Shadowed,
    answer: dict | None = None,
    version: str | None = None,
    latency_ms: float | None = None,
    error: str | None = None,
) -> dict:
    """The ``shadow_outcomes`` row of one ticket: the champion's answer beside the challenger's, or why
    the challenger gave none. ``latency_ms`` is that of the challenger call the ticket was in."""
    champion = item.champion
    return {
        "created_at": dt.datetime.now(dt.timezone.utc),
        "ticket_key": item.ticket_key,
        "backend": item.backend,
        "model_name": champion["model"]["name"],
        "champion_version": str(champion["model"]["version"]),
        "challenger_version": version or item.challenger_version,
        "champion_label": champion["label"],
        "champion_confidence": champion["confidence"],
        "challenger_label": answer["label"] if answer else None,
        "challenger_confidence": answer["confidence"] if answer else None,
        "latency_ms": latency_ms,
        "error": error,
    }
