"""Request bodies read under a byte limit, counted as they stream in, before anything parses them.

``BodyLimit`` gives every route one limit (the CSV upload ``MAX_UPLOAD_BYTES``,
every other form ``MAX_FORM_BYTES``): a body that declares a bigger length,
or streams past the limit without declaring one, is refused with a 413 naming
the limit as soon as the route starts reading it, and no more of it is read.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

Limit = tuple[str, int]  # the setting's name, the bytes it allows


class BodyLimit:
    """Pure ASGI: the route reads its body through a receive that counts."""

    def __init__(self, app, limits: dict[str, Limit], default: Limit):
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        setting, limit = self.limits.get(scope["path"], self.default)
        declared = _content_length(scope)
        received = 0

        async def limited():
            nonlocal received
            if declared is not None and declared > limit:
                raise HTTPException(
                    413, f"the request is {declared} bytes, over the {limit} byte limit ({setting})"
                )
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"the request is over the {limit} byte limit ({setting})")
            return message

        await self.app(scope, limited, send)


def _content_length(scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length" and value.isdigit():
            return int(value)
    return None


async def read_upload_form(request: Request) -> FormData:
    """The upload's form (one file, a few fields), its body bounded by ``BodyLimit``."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise HTTPException(415, "send the file as a form upload (multipart/form-data)")
    try:
        return await request.form(max_files=1, max_fields=10)
    except StarletteHTTPException:
        raise  # over the byte limit, or a multipart error Starlette words itself
    except Exception as exc:  # noqa: BLE001 - a malformed multipart body is the client's fault
        raise HTTPException(400, f"the upload is not a readable form ({type(exc).__name__})") from None
