"""Reading a REST request's parameters from raw ASGI: query string merged with the body.

The portal takes parameters from the query string and from a JSON, form-encoded or multipart
body (all PHP-style, see ``wire.py``); body values win over query values of the same name. An
uploaded file becomes ``[filename, base64 content]``, the portal's own notation for files.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from .wire import WireError, build_nested, parse_json, parse_query

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

MAX_BODY = 32 * 1024 * 1024
MAX_PART = 16 * 1024 * 1024
_BODYLESS = ("GET", "HEAD", "OPTIONS")


class BodyTooLarge(WireError):
    """The request body is larger than the emulator accepts (answered with 413)."""


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


async def read_params(scope: Scope, receive: Receive) -> dict[str, Any]:
    """The request's parameters; raises :class:`WireError` for unreadable input."""
    query = scope.get("query_string", b"")
    params = parse_query(_text(query, "query string")) if query else {}
    if scope.get("method", "GET") in _BODYLESS:
        return params
    ctype = header(scope, b"content-type").split(";", 1)[0].strip().lower()
    if ctype == "multipart/form-data":
        body = await _multipart(scope, receive)
    else:
        raw = await read_body(receive)
        if ctype == "application/json" or raw.lstrip()[:1] in (b"{", b"["):
            body = parse_json(raw)
        else:
            body = parse_query(_text(raw, "request body")) if raw else {}
    params.update(body)
    return params


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    """The whole body; one larger than ``limit`` is read to its end and refused."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise WireError("The client closed the connection")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size > limit:
        raise BodyTooLarge(f"The request body is larger than {limit} bytes")
    return b"".join(chunks)


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(f"The {what} is not UTF-8") from exc


async def _multipart(scope: Scope, receive: Receive) -> dict[str, Any]:
    request = Request(scope, receive)
    try:
        form = await request.form(max_files=100, max_fields=10_000, max_part_size=MAX_PART)
    except (MultiPartException, ValueError) as exc:
        raise WireError(f"Malformed multipart body: {exc}") from exc
    pairs: list[tuple[str, Any]] = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                pairs.append((key, [value.filename or "file", base64.b64encode(content).decode()]))
            else:
                pairs.append((key, value))
    finally:
        await form.close()
    return build_nested(pairs)
