"""Resolve a request's @context into an active Context (clause 5.5.7).

The core context is built in. Contexts hosted by the broker itself (jsonldContexts) are
read from the tenant's store without an HTTP round trip, and may be named by a relative
URL. Other URLs are fetched once, with a timeout, and cached ("Cached" contexts of
clause 5.13); concurrent requests for the same URL share one fetch. Built contexts are
cached by their @context value, so a gateway that sends the same Link header on every
request pays for the term tables once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ..ngsild.context import (
    CORE,
    CORE_CONTEXT_URLS,
    Context,
    ContextError,
    build_context,
    missing_urls,
)
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import BadRequestData, LdContextNotAvailable

__all__ = ["HOSTED_PATH", "CachedContext", "ContextResolver", "HostedLookup"]

log = logging.getLogger("kaido.context")

HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"
#: Stands for "this broker" in relative hosted-context URLs (.invalid never resolves).
SELF = "http://kaido.invalid"
_MAX_CONTEXT_BYTES = 2 * 1024 * 1024
_BUILT_CACHE_SIZE = 512

#: Finds a hosted context's body by local id in a tenant; None if there is none.
HostedLookup = Callable[[str | None, str], Awaitable[object | None]]


@dataclass(slots=True)
class CachedContext:
    url: str
    document: object
    fetched: float
    created_at: str


class ContextResolver:
    def __init__(self, hosted: HostedLookup, *, timeout: float, cache_seconds: float) -> None:
        self.hosted = hosted
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.cached: dict[str, CachedContext] = {}
        self._inflight: dict[str, asyncio.Future[object]] = {}
        self._built: OrderedDict[tuple[str | None, str], Context] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def forget(self, url: str | None = None) -> None:
        """Drop cached documents (one URL, or all) and every built context."""
        if url is None:
            self.cached.clear()
        else:
            self.cached.pop(url, None)
        self._built.clear()

    async def resolve(self, value: object, tenant: str | None = None) -> Context:
        """The active context for a Link URL or a body's @context value (None: core)."""
        if value is None or (isinstance(value, str) and value in CORE_CONTEXT_URLS):
            return CORE
        value = _absolute(value)
        key = (tenant, value if isinstance(value, str) else orjson.dumps(value).decode())
        built = self._built.get(key)
        if built is not None:
            self._built.move_to_end(key)
            return built
        documents: dict[str, object] = {}
        try:
            missing = missing_urls(value, documents)
            rounds = 0
            while missing:
                rounds += 1
                if rounds > 10:
                    raise BadRequestData("The @context nests remote contexts too deeply")
                fetched = await asyncio.gather(*(self._document(u, tenant) for u in missing))
                documents.update(zip(missing, fetched, strict=True))
                missing = missing_urls(value, documents)
            context = build_context(value, documents)
        except ContextError as err:
            raise BadRequestData(f"Invalid @context: {err}") from None
        self._built[key] = context
        if len(self._built) > _BUILT_CACHE_SIZE:
            self._built.popitem(last=False)
        return context

    async def _document(self, url: str, tenant: str | None) -> object:
        if HOSTED_PATH in url:
            body = await self.hosted(tenant, url.rsplit(HOSTED_PATH, 1)[1])
            if body is not None:
                return {"@context": body}
            if url.startswith(SELF):
                raise LdContextNotAvailable(f"No hosted @context at {url[len(SELF) :]}")
        cached = self.cached.get(url)
        if cached is not None and time.monotonic() - cached.fetched < self.cache_seconds:
            return cached.document
        return await self.fetch(url)

    async def fetch(self, url: str) -> object:
        """Fetch (or re-fetch) a remote context and cache it; one fetch per URL at a time."""
        pending = self._inflight.get(url)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            document = await self._load(url)
        except Exception as err:
            future.set_exception(err)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(document)
            old = self.cached.get(url)
            created = old.created_at if old else now_iso()
            self.cached[url] = CachedContext(url, document, time.monotonic(), created)
            return document
        finally:
            del self._inflight[url]

    async def _load(self, url: str) -> object:
        if not url.startswith(("http://", "https://")):
            raise LdContextNotAvailable(f"Cannot retrieve @context {url!r}: not an http(s) URL")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Accept": "application/ld+json, application/json"},
            )
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    raise LdContextNotAvailable(
                        f"Cannot retrieve @context {url}: HTTP {response.status}"
                    )
                raw = await response.content.read(_MAX_CONTEXT_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise LdContextNotAvailable(
                f"Cannot retrieve @context {url}: {type(err).__name__} {err}".strip()
            ) from None
        if len(raw) > _MAX_CONTEXT_BYTES:
            raise BadRequestData(f"@context {url} is larger than 2 MiB")
        try:
            document: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadRequestData(f"@context {url} is not JSON") from None
        if not isinstance(document, dict) or "@context" not in document:
            raise BadRequestData(f"@context {url} is not a JSON-LD context: no '@context' member")
        log.info("fetched @context %s", url)
        return document


def _absolute(value: object) -> object:
    """Relative URLs of hosted contexts (/ngsi-ld/v1/jsonldContexts/...) name this broker."""
    if isinstance(value, str):
        return SELF + value if value.startswith(HOSTED_PATH) else value
    if isinstance(value, list):
        return [_absolute(v) for v in value]
    return value
