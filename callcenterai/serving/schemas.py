"""The prediction contract (see DESIGN.md), as pydantic models with examples for /docs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from callcenterai.model_card import ModelCard, SmokeTicket

EXAMPLE_TEXT = "My LAPTOP won't boot!!! ticket #4411"
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


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or blank")
    return value


def text_or_none(request: type[BaseModel], body: bytes) -> str | None:
    """A fast path's reading of a /predict body: its text, or None for the route to word the 4xx."""
    try:
        return request.model_validate_json(body).text
    except ValueError:  # pydantic's ValidationError
        return None


def request_models(max_text_chars: int, max_batch: int) -> tuple[type[BaseModel], type[BaseModel]]:
    """Request bodies with this deployment's limits built into their schema."""
    text_field = Annotated[
        str,
        Field(
            min_length=1,
            max_length=max_text_chars,
            description=f"Raw ticket text, 1 to {max_text_chars} characters; normalised server side.",
            examples=[EXAMPLE_TEXT],
        ),
    ]
    strict = ConfigDict(extra="forbid", strict=True)
    predict = create_model(
        "PredictRequest",
        __config__=strict,
        __validators__={"blank": field_validator("text")(_not_blank)},
        text=(text_field, ...),
    )
    batch = create_model(
        "BatchPredictRequest",
        __config__=strict,
        __validators__={"blank": field_validator("texts")(lambda v: [_not_blank(t) for t in v])},
        texts=(
            Annotated[
                list[text_field],
                Field(
                    min_length=1,
                    max_length=max_batch,
                    description=f"1 to {max_batch} ticket texts; answers come back in the same order.",
                    examples=[[EXAMPLE_TEXT, "please reset my password"]],
                ),
            ],
            ...,
        ),
    )
    return predict, batch


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


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    service: str = Field(examples=["tfidf_svc"])


class Readiness(BaseModel):
    ready: bool
    model: ModelRef | None = None
    source: str | None = Field(None, description="registry, cache (registry unreachable) or local folder.")
    warning: str | None = Field(None, description="Why the service is not serving what it was asked to.")
    reason: str | None = Field(None, description="Why the service is not ready.")


class ReloadResult(BaseModel):
    reloaded: bool
    model: ModelRef
    previous: ModelRef | None = None
    message: str = Field(examples=["now serving version 4 (was 3)"])


class ErrorBody(BaseModel):
    error: str = Field(
        description="What is wrong, in one line.", examples=["text: must not be empty or blank"]
    )
    detail: list[dict] | None = Field(None, description="Every problem found, field by field.")


class ServedModelCard(ModelCard):
    """GET /model: the model card of what is being served, and how it is being served."""

    registry_uri: str | None = Field(None, exclude=True)
    smoke_tickets: list[SmokeTicket] = Field([], exclude=True)
    source: str = Field(description="registry, cache (registry unreachable) or local folder.")
    warning: str | None = Field(None, description="Why the service is not serving what it was asked to.")
    loaded_at: float = Field(description="When this model was loaded (seconds since the epoch).")
    backend: str = Field(description="What computes the numbers.", examples=["onnxruntime"])
