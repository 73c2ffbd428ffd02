"""The agent's requests and answers: the prediction contract plus how the ticket was routed (for /docs)."""

from __future__ import annotations

from pydantic import BaseModel, Field, create_model

from callcenterai.serving.schemas import ModelRef, ScoredTicket


class Span(BaseModel):
    type: str = Field(examples=["EMAIL"])
    start: int = Field(description="Offset in the text sent, in characters.")
    end: int


class Redaction(BaseModel):
    text: str = Field(description="The text with <TYPE> placeholders where personal data was.")
    model_text: str = Field(
        description="Exactly what the models see: the same text with those spans removed."
    )
    entities: list[Span]
    counts: dict[str, int]


def agent_request(classifier_request: type[BaseModel], name: str) -> type[BaseModel]:
    """A classifiers' /predict or /predict/batch body, plus the agent's offer to send the redaction
    with each answer."""
    return create_model(
        name,
        __base__=classifier_request,
        include_redaction=(
            bool,
            Field(
                False,
                description=(
                    "Also answer `redaction` with each answer: what POST /redact would say of that "
                    "text (each ticket is scrubbed once for both)."
                ),
            ),
        ),
    )


class Route(BaseModel):
    model: str = Field(description="What answered: tfidf, transformer, or ensemble (both combined).")
    reasons: list[str] = Field(
        description=(
            "Why: confident (TF-IDF alone), low_confidence, long, not_english (both asked), "
            "tfidf_unavailable (transformer alone)."
        ),
        examples=[["low_confidence"]],
    )
    explanation: str = Field(
        examples=[
            "TF-IDF confidence 0.412 below the threshold 0.870; 12 words, within the 60-word limit; "
            "language en (1.00)"
        ]
    )
    tfidf_confidence: float | None = Field(None, description="TF-IDF's top probability (None: it was down).")
    tfidf_threshold: float
    words: int = Field(description="Words after normalisation.")
    max_words: int | None
    language: str = Field(examples=["en"])
    language_probability: float
    models: list[ModelRef] = Field(description="Every model whose answer was used.")


class AgentAnswer(ScoredTicket):
    model: ModelRef
    route: Route
    redacted: dict[str, int] = Field(
        description="Personal data removed before any model saw the text: counts by type, never values.",
        examples=[{"EMAIL": 1, "PHONE": 1}],
    )
    needs_review: bool
    review_reason: str | None = Field(None, examples=["low_confidence"])
    degraded: bool = Field(description="True when a backend the policy wanted could not be used.")
    degraded_reason: str | None = None
    redaction: Redaction | None = Field(
        None, description="Present when the request asked for it (`include_redaction`)."
    )


class AgentPrediction(AgentAnswer):
    latency_ms: float


class AgentBatchPrediction(BaseModel):
    predictions: list[AgentAnswer]
    model: ModelRef = Field(description="The models behind this batch (each answer names its own).")
    latency_ms: float


class AgentModels(BaseModel):
    policy: dict | None = Field(
        description="The routing policy in use (thresholds, fitted-for models, figures)."
    )
    policy_source: str | None = Field(None, description="The policy file (only with the API key).")
    policy_matches: dict[str, bool | None] = Field(
        description="Per backend: whether it serves the model the policy was fitted for (None: unknown)."
    )
    backends: dict[str, dict] = Field(
        description="Per backend: readiness, circuit, its model card; with the API key, URL and error too."
    )
    warnings: list[str]
