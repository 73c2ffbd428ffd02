"""The routing policy file and the decisions it makes for one ticket.

Written by the fit_routing stage (``models/routing/policy.json``), read by the
agent at start and on ``/admin/reload``. It names the models it was fitted for
by a fingerprint of their served files, so the agent can say when the models it
is serving are not those.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callcenterai.errors import UserError, one_line

POLICY_FILE = "policy.json"
POLICY_FORMAT = 1


class PolicyError(UserError, ValueError):
    """A policy file that is missing, unreadable or invalid."""


class FittedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    fingerprint: str = Field(description="sha256 over the served files' sha256 (see fingerprint_of).")
    trained_at: str
    training_data_md5: str


class LanguageRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    languages: list[str]
    min_probability: float
    min_words: int


class PolicyFigures(BaseModel):
    """Measured on the held-out part of the test split (not the part the thresholds saw)."""

    model_config = ConfigDict(extra="forbid")
    rows: int
    accuracy: float
    macro_f1: float
    transformer_call_rate: float
    review_rate: float
    auto_accuracy: float = Field(description="Accuracy of the tickets not flagged for review.")
    always_combine_accuracy: float
    always_combine_macro_f1: float
    tfidf_accuracy: float
    english_misdetected_rate: float


class RoutingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = POLICY_FORMAT
    labels: list[str]
    tfidf_threshold: float = Field(description="TF-IDF answers alone at this confidence or above.")
    max_words: int | None = Field(description="Longer tickets (normalised words) go to both models.")
    transformer_weight: float = Field(description="The transformer's weight in the combination.")
    review_threshold: float = Field(description="Final confidence below this: needs review.")
    language: LanguageRule
    fitted_for: dict[str, FittedModel]
    fitted_at: str
    fitted_on: str
    target_met: bool = Field(description="Routed accuracy kept within max_accuracy_loss of always combining.")
    review_target_met: bool | None = Field(
        None, description="At most max_review_rate flagged at the target accuracy (on the fitting part)."
    )
    expected: PolicyFigures
    params: dict

    def transformer_reasons(self, tfidf_confidence: float, words: int, english: bool) -> list[str]:
        """Why the transformer must see this ticket too (empty: TF-IDF alone is enough)."""
        return self.confidence_reasons(tfidf_confidence) + self.ticket_reasons(words, english)

    def confidence_reasons(self, tfidf_confidence: float) -> list[str]:
        """The part of the reasons that TF-IDF's answer decides."""
        return ["low_confidence"] if tfidf_confidence < self.tfidf_threshold else []

    def ticket_reasons(self, words: int, english: bool) -> list[str]:
        """The part of the reasons known before any model has read the ticket: length, language."""
        reasons = []
        if self.max_words is not None and words > self.max_words:
            reasons.append("long")
        if not english:
            reasons.append("not_english")
        return reasons

    def combine(self, tfidf: np.ndarray, transformer: np.ndarray) -> np.ndarray:
        w = self.transformer_weight
        return w * transformer + (1.0 - w) * tfidf

    def review_reason(self, confidence: float, english: bool) -> str | None:
        if not english:
            return "not_english"
        if confidence < self.review_threshold:
            return "low_confidence"
        return None

    def write(self, folder: Path) -> Path:
        path = Path(folder) / POLICY_FILE
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return path


def fingerprint_of(file_sha256: dict[str, str]) -> str:
    """One digest for a model's served files, from its card's per-file sha256."""
    return hashlib.sha256(json.dumps(file_sha256, sort_keys=True).encode()).hexdigest()


def read_policy(path: Path) -> RoutingPolicy:
    path = Path(path)
    if path.is_dir():
        path = path / POLICY_FILE
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: no routing policy; run `dvc repro fit_routing`") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: unreadable routing policy ({exc})") from None
    if isinstance(values, dict) and values.get("format") != POLICY_FORMAT:
        raise PolicyError(f"{path}: policy format {values.get('format')!r}, expected {POLICY_FORMAT}")
    try:
        return RoutingPolicy.model_validate(values)
    except ValidationError as exc:
        raise PolicyError(f"{path}: invalid routing policy: {one_line(exc, whole='policy')}") from None
