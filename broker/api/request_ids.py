"""Request ids: every response carries X-Request-Id, and so does every log line of it.

A client's own id is kept when it is sane (1 to 128 characters of ``A-Za-z0-9._-``),
so that ids can be followed across services; otherwise the broker makes one (a uuid4 in
hex). The middleware binds it to ``broker.logs.REQUEST_ID`` while the request is
handled; the header is added as the response is sent (``on_response_prepare``), so error
responses, streamed responses and those made by other middlewares carry it too.
"""

from __future__ import annotations

import re
import uuid

from aiohttp import web

from ..logs import REQUEST_ID
from .problems import Handler

__all__ = ["HEADER", "add_request_id_header", "request_id", "request_id_middleware"]

HEADER = "X-Request-Id"

_KEY = web.RequestKey("request_id", str)
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id(request: web.Request) -> str:
    """This request's id: the client's if it is sane, else a new one (the same each call)."""
    rid = request.get(_KEY)
    if rid is None:
        sent = request.headers.get(HEADER, "")
        rid = request[_KEY] = sent if _SANE.fullmatch(sent) else uuid.uuid4().hex
    return rid


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
