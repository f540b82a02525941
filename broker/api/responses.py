"""Writing NGSI-LD payloads with the right media type and @context (clause 6.3.6)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from ..ngsild.context import CORE_CONTEXT_URL
from .negotiation import GEOJSON, JSON, link_header

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
    link: bool | None = None,
) -> web.Response:
    """A JSON payload: with @context members or a Link header (clause 6.3.6).

    By default application/json gets the Link header, and the other media types must
    already carry their "@context" member(s); link=True forces the header.
    """
    out_headers = dict(headers) if headers else {}
    if link is True or (link is None and media_type == JSON):
        url = context_source if isinstance(context_source, str) else CORE_CONTEXT_URL
        out_headers["Link"] = link_header(url)
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type=GEOJSON if media_type == GEOJSON else media_type,
        headers=out_headers,
    )
