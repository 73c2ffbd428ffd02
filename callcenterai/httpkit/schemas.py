"""The request bodies every ticket service accepts, and the shapes of its probes and errors."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

EXAMPLE_TEXT = "My LAPTOP won't boot!!! ticket #4411"
# What a calling service sends to the ticket endpoints: one of the called service's CLIENT_KEYS.
CLIENT_KEY_HEADER = "X-Client-Key"


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


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    service: str = Field(examples=["tfidf_svc"])


class Readiness(BaseModel):
    ready: bool
    warning: str | None = Field(None, description="Why the service is not serving what it was asked to.")
    reason: str | None = Field(None, description="Why the service is not ready.")


class ErrorBody(BaseModel):
    error: str = Field(
        description="What is wrong, in one line.", examples=["text: must not be empty or blank"]
    )
    detail: list[dict] | None = Field(None, description="Every problem found, field by field.")
