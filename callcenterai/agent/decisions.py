"""One ticket's answer from what the backends said and what the policy decides.

Pure functions of their inputs (no I/O), so every branch is tested without
servers: TF-IDF alone, both combined, one backend missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callcenterai import __version__
from callcenterai.pii.scrubber import Scrubbed
from callcenterai.routing.language import Language
from callcenterai.routing.policy import RoutingPolicy

ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class Ticket:
    """A scrubbed ticket and what the policy reads of it before any model."""

    scrubbed: Scrubbed
    words: int
    language: Language
    reasons: tuple[str, ...] = ()  # why the transformer must see it, whatever TF-IDF says (long, language)


@dataclass(frozen=True)
class Outcome:
    """What one backend said about one ticket, or why it could not."""

    answer: dict | None  # a contract answer (label, confidence, probabilities) with its model
    unavailable: str | None = None


def _vector(policy: RoutingPolicy, answer: dict) -> np.ndarray:
    return np.array([answer["probabilities"][label] for label in policy.labels])


def needs_transformer(policy: RoutingPolicy, ticket: Ticket, tfidf: Outcome) -> list[str]:
    """Why the transformer must see the ticket too; empty when TF-IDF alone is enough.

    Worked out once per ticket, when TF-IDF has answered; ``decide`` takes the result.
    """
    if tfidf.answer is None:
        return ["tfidf_unavailable"]
    return policy.confidence_reasons(tfidf.answer["confidence"]) + list(ticket.reasons)


def _explain(
    policy: RoutingPolicy, ticket: Ticket, tfidf_confidence: float | None, reasons: list[str]
) -> str:
    parts = []
    if tfidf_confidence is not None:
        relation = "below" if tfidf_confidence < policy.tfidf_threshold else "at or above"
        parts.append(
            f"TF-IDF confidence {tfidf_confidence:.3f} {relation} the threshold {policy.tfidf_threshold:.3f}"
        )
    if policy.max_words is not None:
        relation = "over" if ticket.words > policy.max_words else "within"
        parts.append(f"{ticket.words} words, {relation} the {policy.max_words}-word limit")
    lang = ticket.language
    parts.append(f"language {lang.code} ({lang.probability:.2f})" + ("" if lang.english else ", not English"))
    if "tfidf_unavailable" in reasons:
        parts.append("TF-IDF unavailable")
    return "; ".join(parts)


def decide(
    policy: RoutingPolicy, ticket: Ticket, tfidf: Outcome, transformer: Outcome | None, reasons: list[str]
) -> dict:
    """The agent's answer for one ticket (without latency); raises LookupError if no model answered.

    ``reasons`` are what ``needs_transformer`` said for this ticket.
    """
    used = [o.answer for o in (tfidf, transformer) if o is not None and o.answer is not None]
    if not used:
        raise LookupError("no backend answered")
    if tfidf.answer is not None and transformer is not None and transformer.answer is not None:
        proba = policy.combine(_vector(policy, tfidf.answer), _vector(policy, transformer.answer))
        route_model, model = ENSEMBLE, _ensemble_ref(tfidf.answer["model"], transformer.answer["model"])
    else:
        only = used[0]
        proba, route_model, model = _vector(policy, only), only["model"]["kind"], only["model"]
    best = int(proba.argmax())
    confidence = float(proba[best])
    degraded = _degraded(reasons, tfidf, transformer)
    review = policy.review_reason(confidence, ticket.language.english)
    tfidf_confidence = tfidf.answer["confidence"] if tfidf.answer is not None else None
    return {
        "label": policy.labels[best],
        "confidence": confidence,
        "probabilities": dict(zip(policy.labels, proba.tolist())),
        "model": model,
        "route": {
            "model": route_model,
            "reasons": reasons or ["confident"],
            "explanation": _explain(policy, ticket, tfidf_confidence, reasons),
            "tfidf_confidence": tfidf_confidence,
            "tfidf_threshold": policy.tfidf_threshold,
            "words": ticket.words,
            "max_words": policy.max_words,
            "language": ticket.language.code,
            "language_probability": ticket.language.probability,
            "models": [a["model"] for a in used],
        },
        "redacted": ticket.scrubbed.counts,
        "needs_review": review is not None,
        "review_reason": review,
        "degraded": degraded is not None,
        "degraded_reason": degraded,
    }


def _degraded(reasons: list[str], tfidf: Outcome, transformer: Outcome | None) -> str | None:
    if tfidf.answer is None:
        return f"tfidf_svc unavailable ({tfidf.unavailable}); answered by the transformer alone"
    if reasons and transformer is not None and transformer.answer is None:
        why = ", ".join(reasons)
        return f"transformer_svc unavailable ({transformer.unavailable}); TF-IDF alone although {why}"
    return None


def _ensemble_ref(tfidf: dict, transformer: dict) -> dict:
    return {
        "name": f"{tfidf['name']}+{transformer['name']}",
        "version": f"{tfidf['version']}+{transformer['version']}",
        "kind": ENSEMBLE,
    }


def batch_ref(answers: list[dict]) -> dict:
    """A batch's ``model``: the one model behind every answer, else the agent's ensemble."""
    refs = {tuple(sorted(ref.items())) for a in answers for ref in a["route"]["models"]}
    if len(refs) == 1:
        return dict(next(iter(refs)))
    return {"name": "callcenterai", "version": __version__, "kind": ENSEMBLE}
