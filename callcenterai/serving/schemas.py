"""The prediction contract (see DESIGN.md), as pydantic models with examples for /docs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callcenterai.httpkit.schemas import Readiness
from callcenterai.model_card import ModelCard, SmokeTicket

EXAMPLE_PROBABILITIES = {
    "Access": 0.01,
    "Administrative rights": 0.0,
    "HR Support": 0.01,
    "Hardware": 0.93,
    "Internal Project": 0.0,
    "Miscellaneous": 0.03,
    "Purchase": 0.01,
    "Storage": 0.01,
}


class ModelRef(BaseModel):
    name: str = Field(description="Registered model name.", examples=["callcenterai-tfidf-classifier"])
    version: str = Field(description="Registry version, or 'local' for a model folder.", examples=["3"])
    kind: str = Field(description="Model family: tfidf or transformer.", examples=["tfidf"])


class ScoredTicket(BaseModel):
    label: str = Field(description="The most probable category.", examples=["Hardware"])
    confidence: float = Field(description="Probability of `label` (the top probability).", examples=[0.93])
    probabilities: dict[str, float] = Field(
        description="Calibrated probability of every category; sums to 1.", examples=[EXAMPLE_PROBABILITIES]
    )
    truncated: bool | None = Field(
        None,
        description=(
            "Transformer only: true when the text was longer than the model's trained maximum "
            "(see GET /model, max_length tokens) and only its beginning was read."
        ),
        examples=[False],
    )


class Prediction(ScoredTicket):
    model: ModelRef
    latency_ms: float = Field(description="Time spent in the service for this request.", examples=[1.2])


class BatchPrediction(BaseModel):
    predictions: list[ScoredTicket] = Field(description="One answer per input text, in input order.")
    model: ModelRef
    latency_ms: float = Field(examples=[35.0])


class ChallengerRef(BaseModel):
    name: str = Field(description="Registered model name.", examples=["callcenterai-tfidf-classifier"])
    version: str = Field(description="The challenger's registry version.", examples=["4"])


class ChallengerStatus(BaseModel):
    status: str = Field(
        description="serving; refused (its label set differs from the champion's); failed (it could "
        "not be loaded); none (no version has the challenger alias, or CHALLENGER_URI is none).",
        examples=["serving"],
    )
    version: str | None = Field(None, description="The version this status is about.", examples=["4"])
    reason: str | None = Field(None, description="Why it is not serving (in full with the API key).")


class ClassifierReadiness(Readiness):
    model: ModelRef | None = None
    source: str | None = Field(None, description="registry, cache (registry unreachable) or local folder.")
    challenger: ChallengerRef | None = Field(
        None,
        description="The challenger served beside the model at /challenger/predict, or null; "
        "it never changes readiness.",
    )


class ReloadResult(BaseModel):
    reloaded: bool
    model: ModelRef
    previous: ModelRef | None = None
    message: str = Field(examples=["now serving version 4 (was 3)"])


class ServedModelCard(ModelCard):
    """GET /model: the model card of what is being served, and how it is being served."""

    registry_uri: str | None = Field(None, exclude=True)
    smoke_tickets: list[SmokeTicket] = Field([], exclude=True)
    source: str = Field(description="registry, cache (registry unreachable) or local folder.")
    warning: str | None = Field(None, description="Why the service is not serving what it was asked to.")
    loaded_at: float = Field(description="When this model was loaded (seconds since the epoch).")
    backend: str = Field(description="What computes the numbers.", examples=["onnxruntime"])
    challenger: ChallengerStatus | None = Field(None, description="The challenger beside this model.")
