"""The HTTP error shape every service answers with, and the handlers that produce it.

Every 4xx and 5xx body is ``{"error": "<one line>", "detail": [...]}``; a 5xx
is always a bug and says so, with the request id to find it in the log. Domain
code raises domain errors (``callcenterai.errors``); this is the one place that
gives them a status: not ready 503, bad input 422.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from callcenterai.errors import BadInput, NotReady, NotServed
from callcenterai.httpkit.schemas import ErrorBody

log = logging.getLogger("callcenterai.service")

ERRORS = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    401: {"model": ErrorBody, "description": "X-Client-Key missing (the service has CLIENT_KEYS)"},
    403: {"model": ErrorBody, "description": "X-Client-Key wrong"},
    413: {"model": ErrorBody, "description": "Body too large"},
    415: {"model": ErrorBody, "description": "Body is not JSON"},
    422: {
        "model": ErrorBody,
        "description": (
            "Invalid field (empty, too long, wrong type, too many texts), or nothing left to classify "
            "(no words once personal data, digits and punctuation are removed)"
        ),
    },
    503: {"model": ErrorBody, "description": "Not ready"},
}
ADMIN_ERRORS = {
    401: {"model": ErrorBody, "description": "API key missing"},
    403: {"model": ErrorBody, "description": "API key wrong, or admin disabled"},
    409: {"model": ErrorBody, "description": "Refused; what was serving keeps serving"},
}


class JSONBytes(Response):
    """orjson rendering: several times faster than the standard library for these bodies."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def error(status: int, message: str, detail: list | None = None, headers: dict | None = None) -> JSONBytes:
    body = {"error": message} if detail is None else {"error": message, "detail": detail}
    return JSONBytes(body, status_code=status, headers=headers)


def describe_validation(errors: list[dict]) -> tuple[str, list[dict]]:
    """One line naming the first problem, and every problem field by field."""
    detail = []
    for item in errors:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        problem = item.get("msg", "invalid").removeprefix("Value error, ")
        if item.get("type") == "json_invalid":
            where, problem = "body", f"not valid JSON ({item.get('ctx', {}).get('error', 'decode error')})"
        detail.append({"field": where, "problem": problem})
    first = detail[0] if detail else {"field": "body", "problem": "invalid"}
    return f"{first['field']}: {first['problem']}", detail


DOMAIN_STATUS: dict[type[Exception], int] = {NotReady: 503, NotServed: 404, BadInput: 422}
# What a handler may raise that is answered in the shared shape rather than as a bug.
ANSWERED = (StarletteHTTPException, *DOMAIN_STATUS)


def answer_to(exc: Exception) -> JSONBytes:
    """The shared-shape answer to one of ANSWERED: an HTTPException's status, or the domain error's."""
    if isinstance(exc, StarletteHTTPException):
        message = str(exc.detail)
        if message == "There was an error parsing the body":  # FastAPI's words for undecodable bytes
            message = "body could not be parsed: it is not UTF-8 encoded JSON"
        return error(exc.status_code, message, headers=getattr(exc, "headers", None))
    status = next(code for kind, code in DOMAIN_STATUS.items() if isinstance(exc, kind))
    # A domain error may name its fields one by one, as a validation error does (the agent's batch refusal).
    return error(status, str(exc), getattr(exc, "detail", None))


async def _invalid_request(request: Request, exc: RequestValidationError):
    message, detail = describe_validation(exc.errors())
    return error(422, message, detail)


async def _answered(request: Request, exc: Exception):
    return answer_to(exc)


async def _unexpected(request: Request, exc: Exception):
    request_id = request.scope.get("state", {}).get("request_id", "?")
    log.exception("internal error on %s (request %s)", request.url.path, request_id)
    return error(500, f"internal error (request id {request_id}); this is a bug, please report it")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for kind in ANSWERED:
        app.add_exception_handler(kind, _answered)
    app.add_exception_handler(Exception, _unexpected)
