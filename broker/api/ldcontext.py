"""Resolve a request's @context into an active Context (clause 5.5.7).

The core context is built in. Contexts hosted by the broker itself (jsonldContexts) are
read from the store without an HTTP round trip. Other URLs are fetched once, with a
timeout, and cached; concurrent requests for the same URL share one fetch. Built
contexts are cached by their @context value, so a gateway that sends the same Link
header on every request pays for expansion tables once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
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
from ..ngsild.errors import BadRequestData, LdContextNotAvailable
from ..store.contexts import ContextStore

__all__ = ["HOSTED_PATH", "ContextResolver"]

log = logging.getLogger("kaido.context")

HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"
_MAX_CONTEXT_BYTES = 2 * 1024 * 1024
_BUILT_CACHE_SIZE = 512


class ContextResolver:
    def __init__(self, contexts: ContextStore, *, timeout: float, cache_seconds: float) -> None:
        self.contexts = contexts
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._documents: dict[str, tuple[float, object]] = {}
        self._inflight: dict[str, asyncio.Future[object]] = {}
        self._built: OrderedDict[str, Context] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def forget(self, url: str) -> None:
        """Drop a URL from the caches (a hosted context was deleted)."""
        self._documents.pop(url, None)
        self._built.clear()

    async def resolve(self, value: object) -> Context:
        """The active context for a Link URL or a body's @context value (None: core)."""
        if value is None or (isinstance(value, str) and value in CORE_CONTEXT_URLS):
            return CORE
        key = value if isinstance(value, str) else orjson.dumps(value).decode()
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
                fetched = await asyncio.gather(*(self._document(url) for url in missing))
                documents.update(zip(missing, fetched, strict=True))
                missing = missing_urls(value, documents)
            context = build_context(value, documents)
        except ContextError as err:
            raise BadRequestData(f"Invalid @context: {err}") from None
        self._built[key] = context
        if len(self._built) > _BUILT_CACHE_SIZE:
            self._built.popitem(last=False)
        return context

    async def _document(self, url: str) -> object:
        cached = self._documents.get(url)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        pending = self._inflight.get(url)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            document = await self._load(url)
        except Exception as err:
            future.set_exception(err)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(document)
            self._documents[url] = (time.monotonic(), document)
            return document
        finally:
            del self._inflight[url]

    async def _load(self, url: str) -> object:
        if HOSTED_PATH in url:
            context_id = url.rsplit(HOSTED_PATH, 1)[1]
            record = await self.contexts.get(context_id)
            if record is not None:
                return {"@context": record["body"]}
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
            raise LdContextNotAvailable(f"@context {url} is larger than 2 MiB")
        try:
            document: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise LdContextNotAvailable(f"@context {url} is not valid JSON") from None
        if not isinstance(document, dict) or "@context" not in document:
            raise LdContextNotAvailable(f"@context {url} has no '@context' member")
        log.info("fetched @context %s", url)
        return document
