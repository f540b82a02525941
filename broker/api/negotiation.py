"""Media types in and out (clause 6.3.4 to 6.3.6), and the JSON-LD Link header.

Requests with a body must be application/json or application/ld+json (415 otherwise);
responses are application/json (the @context in a Link header), application/ld+json (the
@context in the body) or application/geo+json (GeoJSON), chosen from Accept (406 if none
fits).
"""

from __future__ import annotations

import re

from aiohttp import web

from ..ngsild.errors import BadRequestData

__all__ = [
    "GEOJSON",
    "JSON",
    "JSONLD",
    "LINK_REL",
    "MERGE_PATCH",
    "body_media_type",
    "link_header",
    "link_context_url",
    "response_media_type",
]

JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
LINK_REL = "http://www.w3.org/ns/json-ld#context"

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def body_media_type(request: web.Request, *, merge_patch: bool = False) -> str:
    """The media type of a request body, or 415 if the broker cannot read it."""
    ctype = request.content_type  # lower-cased, without parameters
    if ctype == JSON or ctype == JSONLD or (merge_patch and ctype == MERGE_PATCH):
        return ctype
    accepted = "application/json or application/ld+json"
    if merge_patch:
        accepted += " (or application/merge-patch+json)"
    raise web.HTTPUnsupportedMediaType(
        text=f"Content-Type {ctype or '(none)'!r} is not supported: send {accepted}"
    )


def response_media_type(request: web.Request, *, geojson: bool = True) -> str:
    """The best media type the client accepts, or 406."""
    header = request.headers.get("Accept", "")
    if not header:
        return JSON
    best: tuple[float, int, str] | None = None
    offered = (JSON, JSONLD, GEOJSON) if geojson else (JSON, JSONLD)
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mtype = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if mtype in ("*/*", "application/*"):
            match = JSON
        elif mtype in offered:
            match = mtype
        else:
            continue
        rank = (q, -position, match)
        if best is None or rank[:2] > best[:2]:
            best = rank
    if best is None:
        raise web.HTTPNotAcceptable(
            text=f"None of the media types in Accept ({header}) is offered: use "
            + ", ".join(offered)
        )
    return best[2]


def link_context_url(request: web.Request) -> str | None:
    """The @context URL of a JSON-LD Link header (clause 6.3.5), if any."""
    header = request.headers.get("Link")
    if not header:
        return None
    for match in _LINK.finditer(header):
        url, params = match.group(1).strip(), match.group(2)
        if LINK_REL in params:
            if not url:
                raise BadRequestData("The JSON-LD Link header has an empty URL")
            return url
    raise BadRequestData(
        f'The Link header must be <URL>; rel="{LINK_REL}"; type="application/ld+json"'
    )


def link_header(url: str) -> str:
    return f'<{url}>; rel="{LINK_REL}"; type="application/ld+json"'
