"""Reading a request: JSON body, tenant, @context and the common query parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from ..ngsild.context import Context
from ..ngsild.errors import BadRequestData, InvalidRequest
from ..ngsild.render import Format
from .keys import CONTEXTS, SETTINGS
from .ldcontext import ContextResolver
from .negotiation import JSONLD, body_media_type, link_context_url

__all__ = [
    "TENANT_HEADER",
    "Body",
    "check_params",
    "int_param",
    "options",
    "paging",
    "read_batch_body",
    "read_body",
    "read_json",
    "request_context",
    "tenant",
    "want_format",
]

TENANT_HEADER = "NGSILD-Tenant"

_KNOWN_OPTIONS = frozenset(
    {
        "keyValues",
        "simplified",
        "concise",
        "normalized",
        "sysAttrs",
        "noOverwrite",
        "replace",
        "update",
    }
)


@dataclass(frozen=True, slots=True)
class Body:
    data: Any
    media_type: str
    context: Context
    #: What to echo as the response's @context: the Link URL or the body's @context.
    context_source: object


def tenant(request: web.Request) -> str | None:
    value = request.headers.get(TENANT_HEADER)
    return value if value else None


def check_params(request: web.Request, allowed: frozenset[str]) -> None:
    """Unknown query parameters are refused (clause 6.3.x, ETSI TP 059_01): a typo in a
    filter must not silently return everything."""
    for name in request.query:
        if name not in allowed:
            raise InvalidRequest(
                f"Unknown query parameter {name!r} (allowed here: {', '.join(sorted(allowed))})"
            )


def int_param(request: web.Request, name: str, default: int) -> int:
    """A non-negative integer query parameter (limit, offset): 400 otherwise."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        raise BadRequestData(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


def paging(request: web.Request) -> tuple[int, int, bool]:
    """limit (at most MAX_LIMIT), offset and count=true|false of a listing (clause 5.5.9)."""
    limit = int_param(request, "limit", 20)
    maximum = request.app[SETTINGS].max_limit
    if limit > maximum:
        raise BadRequestData(f"limit {limit} is over the maximum of {maximum} (MAX_LIMIT)")
    count = request.query.get("count")
    if count not in (None, "true", "false"):
        raise BadRequestData(f"count must be true or false, got {count!r}")
    return limit, int_param(request, "offset", 0), count == "true"


def options(request: web.Request, allowed: frozenset[str] = _KNOWN_OPTIONS) -> set[str]:
    raw = request.query.getall("options", [])
    out: set[str] = set()
    for chunk in raw:
        for opt in chunk.split(","):
            opt = opt.strip()
            if not opt:
                continue
            if opt not in allowed:
                raise InvalidRequest(
                    f"Unknown option {opt!r} (allowed here: {', '.join(sorted(allowed))})"
                )
            out.add(opt)
    return out


def want_format(request: web.Request, opts: set[str]) -> Format:
    """normalized, concise or keyValues, from `format` (which wins) or `options`."""
    fmt = request.query.get("format")
    if fmt is not None:
        if fmt not in ("normalized", "concise", "keyValues", "simplified"):
            raise InvalidRequest(f"Unknown format {fmt!r}: use normalized, concise or keyValues")
        return "keyValues" if fmt == "simplified" else fmt  # type: ignore[return-value]
    if "keyValues" in opts or "simplified" in opts:
        if "concise" in opts:
            raise InvalidRequest("options keyValues and concise cannot be combined")
        return "keyValues"
    if "concise" in opts:
        return "concise"
    return "normalized"


async def request_context(request: web.Request) -> tuple[Context, object]:
    """The @context given by the Link header (core context if none), for bodiless requests."""
    resolver: ContextResolver = request.app[CONTEXTS]
    url = link_context_url(request)
    return await resolver.resolve(url, tenant(request)), url


async def read_json(request: web.Request) -> Any:
    """The body as JSON: InvalidRequest if it is empty or not JSON."""
    raw = await request.read()
    if not raw.strip():
        raise InvalidRequest("The request body is empty: a JSON payload is required")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise InvalidRequest(f"The request body is not valid JSON: {err}") from None


async def read_batch_body(request: web.Request) -> Body:
    """A batch body: a non-empty JSON array whose items each carry their own @context in
    application/ld+json; in application/json the Link header's context applies to all.

    Per-item @context problems are the item's own error (clause 6.14.3.1), not the batch's.
    """
    media_type = body_media_type(request)
    raw = await request.read()
    if not raw.strip():
        raise BadRequestData("The batch is empty: send a JSON array")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise InvalidRequest(f"The request body is not valid JSON: {err}") from None
    if not isinstance(data, list) or not data:
        raise BadRequestData("A batch operation takes a non-empty JSON array")
    if any(item is None for item in data):
        raise BadRequestData("A batch cannot contain null items")
    link = link_context_url(request)
    if media_type == JSONLD and link is not None:
        raise BadRequestData(
            "With Content-Type application/ld+json each entity carries its @context: "
            "do not send a Link header"
        )
    resolver: ContextResolver = request.app[CONTEXTS]
    return Body(data, media_type, await resolver.resolve(link, tenant(request)), link)


async def read_body(request: web.Request, *, merge_patch: bool = False) -> Body:
    """Parse the JSON body and find its @context (Link header or '@context' member)."""
    media_type = body_media_type(request, merge_patch=merge_patch)
    data = await read_json(request)
    resolver: ContextResolver = request.app[CONTEXTS]
    link = link_context_url(request)
    if media_type == JSONLD:
        if link is not None:
            raise BadRequestData(
                "With Content-Type application/ld+json the @context goes in the body, "
                "not in a Link header"
            )
        source = _body_context(data)
        if source is None:
            raise BadRequestData(
                "A body sent as application/ld+json must have an '@context' member"
            )
    else:
        if _has_context_member(data):
            raise BadRequestData(
                "A body sent as application/json must not have an '@context' member: send it "
                "as application/ld+json, or give the @context in a Link header"
            )
        source = link
    return Body(data, media_type, await resolver.resolve(source, tenant(request)), source)


def _body_context(data: Any) -> object:
    if isinstance(data, dict):
        return data.get("@context")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0].get("@context")
    return None


def _has_context_member(data: Any) -> bool:
    if isinstance(data, dict):
        return "@context" in data
    if isinstance(data, list):
        return any(isinstance(d, dict) and "@context" in d for d in data)
    return False
