"""A multipart form read under a byte limit: refused as soon as the body passes it, never read whole."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from callcenterai.serving.middleware import replay_receive


async def read_limited_form(request: Request, max_bytes: int) -> FormData:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise HTTPException(413, f"the upload is {int(length)} bytes, over the {max_bytes} byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(413, f"the upload is over the {max_bytes} byte limit")
        chunks.append(chunk)
    limited = Request(request.scope, replay_receive(b"".join(chunks), request.receive))
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise HTTPException(415, "send the file as a form upload (multipart/form-data)")
    try:
        return await limited.form(max_files=1, max_fields=10)
    except Exception as exc:  # noqa: BLE001 - a malformed multipart body is the client's fault
        raise HTTPException(400, f"the upload is not a readable form ({type(exc).__name__})") from None
