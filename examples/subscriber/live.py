"""Server-Sent Events to the pages: every page gets a snapshot when it connects, then the
changes as notifications arrive.

Each page has a bounded queue of encoded events. A page that falls that far behind is cut
off; its EventSource reconnects by itself and starts again from a snapshot, so a slow page
never holds up the notifications or the other pages.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import orjson
from aiohttp import web

__all__ = ["KEEP_ALIVE", "EventHub", "encode_event", "stream"]

#: Seconds between keep-alive comments on an idle stream (proxies close silent ones).
KEEP_ALIVE: Final = 15.0
#: Events a page may fall behind before it is cut off (it then reconnects).
QUEUE_SIZE: Final = 512
#: How long the browser waits before reconnecting, in ms (the SSE "retry" field).
RETRY_MS: Final = 2000


def encode_event(event: str, data: object) -> bytes:
    """One SSE event; the JSON is on one line (orjson never writes newlines)."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class EventHub:
    """The open event streams, and the events to send them."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[bytes | None]] = set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._queues)

    def open(self) -> asyncio.Queue[bytes | None]:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_SIZE)
        if self.closed:
            queue.put_nowait(None)
        else:
            self._queues.add(queue)
        return queue

    def close_stream(self, queue: asyncio.Queue[bytes | None]) -> None:
        self._queues.discard(queue)

    def publish(self, event: str, data: object) -> None:
        message = encode_event(event, data)
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._cut_off(queue)

    def _cut_off(self, queue: asyncio.Queue[bytes | None]) -> None:
        self._queues.discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    async def close(self, _: web.Application | None = None) -> None:
        """End every stream (on shutdown, so that the server need not wait for them)."""
        self.closed = True
        for queue in list(self._queues):
            self._cut_off(queue)


async def stream(request: web.Request, hub: EventHub, first: bytes) -> web.StreamResponse:
    """An event stream: first (the snapshot), then what the hub publishes, until the page
    goes away or the hub closes. The queue is opened before first is sent, and first is
    made before any await, so that no change falls between the snapshot and the stream."""
    queue = hub.open()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
        }
    )
    try:
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n".encode() + first)
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
            except TimeoutError:
                message = b": keep-alive\n\n"
            if message is None:
                break
            await response.write(message)
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        hub.close_stream(queue)
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response
