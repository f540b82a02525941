"""HTTP delivery (clause 6.3 binding of notifications): one pooled aiohttp session.

Concurrent requests are bounded per endpoint (scheme, host, port) so that a slow receiver
cannot take all of the process's delivery slots, and each request has a timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from ..ngsild.notification import Delivery
from .ports import DeliveryError
from .settings import NotifySettings

__all__ = ["HttpSender"]

_MAX_RESPONSE = 64 * 1024


class HttpSender:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._limits: dict[str, asyncio.Semaphore] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.settings.concurrency),
                headers={"User-Agent": "kaido-notifier"},
            )
        return self._session

    def _limit(self, uri: str) -> asyncio.Semaphore:
        parts = urlsplit(uri)
        origin = f"{parts.scheme}://{parts.netloc}"
        limit = self._limits.get(origin)
        if limit is None:
            limit = self._limits[origin] = asyncio.Semaphore(self.settings.per_endpoint)
        return limit

    async def send(self, delivery: Delivery, headers: dict[str, str], body: Any) -> None:
        uri = delivery.endpoint["uri"]
        timeout_ms = delivery.endpoint.get("timeout")
        timeout = timeout_ms / 1000 if timeout_ms else self.settings.timeout
        async with self._limit(uri):
            try:
                async with self._client().post(
                    uri,
                    data=orjson.dumps(body),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                    allow_redirects=False,
                ) as response:
                    await response.content.read(_MAX_RESPONSE)
                    if not 200 <= response.status < 300:
                        raise DeliveryError(
                            f"HTTP {response.status} {response.reason or ''}".strip()
                        )
            except TimeoutError:
                raise DeliveryError(f"no answer within {timeout:g} s") from None
            except aiohttp.ClientError as err:
                raise DeliveryError(f"{type(err).__name__}: {err}".strip()) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
