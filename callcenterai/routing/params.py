"""The ``fit_routing`` section of params.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FitRoutingParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Share of the test split the thresholds are fitted on; the figures reported
    # (policy "expected", evaluation/routing/metrics.json) come from the rest.
    fit_fraction: float = Field(0.5, gt=0.05, lt=0.95)
    random_state: int = 42
    # Routed accuracy may be at most this much below always combining both models.
    max_accuracy_loss: float = Field(0.0, ge=0.0, le=0.1)
    # ... while the transformer sees at most this share of tickets.
    max_transformer_rate: float = Field(0.4, gt=0.0, le=1.0)
    # Weights of the transformer in the combined probabilities, tried in turn.
    transformer_weights: tuple[float, ...] = Field((0.5,), min_length=1)
    # Word-count quantiles tried as "too long for TF-IDF alone" (null: no length rule).
    length_quantiles: tuple[float | None, ...] = (None, 0.9, 0.95, 0.99)
    # Tickets answered without review must be at least this accurate ...
    target_auto_accuracy: float = Field(0.96, gt=0.0, le=1.0)
    # ... and at most this share flagged: the fit buys transformer calls (up to the cap)
    # to get there, or leaves the most it can unflagged under the cap.
    max_review_rate: float = Field(0.2, ge=0.0, le=1.0)
    # Language: tickets that the detector places in another of these languages with at
    # least this probability (and at least min_words words) go to both models and review.
    languages: tuple[str, ...] = ("en", "fr", "de", "es", "it", "pt", "nl")
    language_min_probability: float = Field(0.9, ge=0.0, le=1.0)
    language_min_words: int = Field(3, ge=1)
