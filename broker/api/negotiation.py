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
    "link_context_url",
    "link_header",
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
    if ctype in (JSON, JSONLD) or (merge_patch and ctype == MERGE_PATCH):
        return ctype
    accepted = "application/json or application/ld+json"
    if merge_patch:
        accepted += " (or application/merge-patch+json)"
    raise web.HTTPUnsupportedMediaType(
        text=f"Content-Type {ctype or '(none)'!r} is not supported: send {accepted}"
    )


def _accept_ranges(header: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f[:2].lower() == "q=":
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 1.0  # a malformed weight is ignored, as RFC 9110 readers do
        ranges.append((fields[0].lower(), q))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """The weight of the most specific range that matches offer (RFC 9110, 12.5.1)."""
    best_specificity, weight = -1, 0.0
    major = offer.split("/")[0]
    for mtype, q in ranges:
        if mtype == offer:
            specificity = 2
        elif mtype == f"{major}/*":
            specificity = 1
        elif mtype == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, weight = specificity, q
    return weight


def response_media_type(request: web.Request, *, geojson: bool = True) -> str:
    """The media type to answer with (clause 6.3.4), or 406.

    The highest weight wins; among equal weights the broker prefers application/json,
    then application/ld+json, then application/geo+json.
    """
    header = request.headers.get("Accept", "")
    if not header:
        return JSON
    offered = (JSON, JSONLD, GEOJSON) if geojson else (JSON, JSONLD)
    ranges = _accept_ranges(header)
    best, best_q = "", 0.0
    for offer in offered:
        q = _quality(offer, ranges)
        if q > best_q:
            best, best_q = offer, q
    if not best:
        raise web.HTTPNotAcceptable(
            text=f"None of the media types in Accept ({header}) is offered: use "
            + ", ".join(offered)
        )
    return best


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
