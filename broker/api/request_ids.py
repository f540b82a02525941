"""Request ids: every response carries X-Request-Id, and so does every log line of it.

A client's own id is kept when it is sane (1 to 128 characters of ``A-Za-z0-9._-``),
so that ids can be followed across services; otherwise the broker makes one (a uuid4 in
hex). The middleware binds it to ``broker.logs.REQUEST_ID`` while the request is
handled; the header is added as the response is sent (``on_response_prepare``), so error
responses, streamed responses and those made by other middlewares carry it too.
"""

from __future__ import annotations

import os
import re

from aiohttp import web

from ..logs import REQUEST_ID
from .problems import Handler

__all__ = [
    "HEADER",
    "add_request_id_header",
    "request_id",
    "request_id_middleware",
    "uuid4_hex",
]

HEADER = "X-Request-Id"

_KEY = web.RequestKey("request_id", str)
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")

# The version (4) and variant (RFC 4122) bits of a uuid4, as uuid.UUID(version=4) sets them.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def uuid4_hex(raw: bytes) -> str:
    """uuid.UUID(bytes=raw, version=4).hex without building a UUID: half the cost, and it
    runs for every request that comes without an id."""
    return f"{(int.from_bytes(raw, 'big') & _UUID4_CLEAR) | _UUID4_SET:032x}"


def _assign(request: web.Request) -> str:
    """Give the request its id: the client's if it is sane, else a new uuid4."""
    sent = request.headers.get(HEADER)
    rid = request[_KEY] = sent if sent and _SANE.fullmatch(sent) else uuid4_hex(os.urandom(16))
    return rid


def request_id(request: web.Request) -> str:
    """This request's id: the client's if it is sane, else a new one (the same each call)."""
    rid = request.get(_KEY)
    return _assign(request) if rid is None else rid


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = REQUEST_ID.set(request_id(request))
    try:
        return await handler(request)
    finally:
        REQUEST_ID.reset(token)


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: runs for every response of the app, just before it is sent."""
    response.headers[HEADER] = request_id(request)
