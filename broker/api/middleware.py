"""Request checks and response decorations that apply to every route.

- a body sent without Content-Length (chunked) is refused with a bare 411, before
  anything else is looked at: the broker checks body size before reading a body;
- the NGSILD-Tenant header is echoed on every response, errors included (clause 6.3.14);
- in data-model warn mode, what did not fit the model is told in a Warning header.
"""

from __future__ import annotations

from aiohttp import web

from .enforcement import WARNINGS
from .problems import Handler
from .requests import TENANT_HEADER

__all__ = ["protocol_middleware"]

_WITH_BODY = frozenset({"POST", "PATCH", "PUT"})


@web.middleware
async def protocol_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in _WITH_BODY and "Content-Length" not in request.headers:
        response: web.StreamResponse = web.Response(status=411)
    else:
        response = await handler(request)
    tenant = request.headers.get(TENANT_HEADER)
    if tenant:
        response.headers[TENANT_HEADER] = tenant
    warnings = request.get(WARNINGS)
    if warnings:
        # warn mode: stored, and told (RFC 9110 Warning-style text, one line).
        text = " | ".join(warnings)[:2000].replace('"', "'")
        response.headers["Warning"] = f'199 kaido "data model: {text}"'
    return response
