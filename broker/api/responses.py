"""Writing NGSI-LD payloads with the right media type and @context (clause 6.3.6)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from ..ngsild.context import CORE_CONTEXT_URL
from .negotiation import GEOJSON, JSONLD, link_header

__all__ = ["context_value", "payload_response"]


def context_value(source: object) -> object:
    """The @context to put in (or link from) a response: the client's, else the core one."""
    return CORE_CONTEXT_URL if source is None else source


def payload_response(
    data: Any,
    media_type: str,
    context_source: object,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A JSON payload: with @context members (ld+json) or a Link header (json, geo+json).

    For ld+json, data must already carry its "@context" member(s) (see with_context).
    """
    out_headers = dict(headers) if headers else {}
    if media_type != JSONLD:
        link = context_source if isinstance(context_source, str) else CORE_CONTEXT_URL
        out_headers["Link"] = link_header(link)
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type=GEOJSON if media_type == GEOJSON else media_type,
        headers=out_headers,
    )
