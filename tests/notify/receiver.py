"""A real HTTP notification receiver on loopback, for the subscription tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web


class Receiver:
    """Records every POST to /notify; answers with .status (200 unless a test changes it)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.failures = 0
        #: monotonic times of the refused deliveries (to check the backoff)
        self.failed_at: list[float] = []
        self.status = 200
        self.delay = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, body in self.received]

    async def _notify(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status >= 300:
            self.failures += 1
            self.failed_at.append(time.monotonic())
            return web.Response(status=self.status)
        self.received.append((dict(request.headers), body))
        return web.Response(status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/notify", self._notify)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait(self, count: int, within: float = 5.0) -> list[dict[str, Any]]:
        """The bodies once at least count notifications arrived (fails after within s)."""
        deadline = time.monotonic() + within
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} notifications, expected {count}")
            await asyncio.sleep(0.02)
        return self.bodies

    async def quiet(self, seconds: float) -> None:
        """Let time pass, for tests that check that nothing arrives."""
        await asyncio.sleep(seconds)


#: Short intervals so that the whole subscription suite stays fast.
FAST_ENV = {
    "SUBSCRIPTION_POLL": "0.2",
    "NOTIFY_POLL": "0.1",
    "NOTIFY_BACKOFF_BASE": "0.1",
    "NOTIFY_BACKOFF_MAX": "0.4",
    "NOTIFY_MAX_ATTEMPTS": "3",
    "NOTIFY_TIMEOUT": "2",
    "NOTIFY_LEASE": "5",
}
