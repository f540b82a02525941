"""The asyncio TCP server: frames messages off each connection and answers them in order.

The engine is synchronous and every command runs to completion inside ``data_received``,
so each command is atomic with respect to all others (the broker's optimistic
concurrency relies on single-document writes being atomic) and no per-message task or
coroutine is needed. A connection whose bytes cannot be framed is closed; a well-framed
but invalid message gets an error reply; neither affects other connections.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, cast

from ._commands import Commands
from ._errors import CommandError, from_exception
from ._wire import (
    OP_QUERY,
    BadRequest,
    ProtocolError,
    encode_op_msg,
    encode_op_reply,
    message_length,
    parse_message,
)

__all__ = ["DevStoreServer", "serve"]

log = logging.getLogger("broker.devstore")


class _Connection(asyncio.Protocol):
    def __init__(self, server: DevStoreServer, connection_id: int) -> None:
        self._server = server
        self._commands = server.commands
        self._id = connection_id
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._server._connections.add(self)
        log.debug("connection %d from %s", self._id, transport.get_extra_info("peername"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._server._connections.discard(self)
        self._transport = None
        log.debug("connection %d closed", self._id)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # Flow control: stop reading requests while the client is not reading our replies.
    def pause_writing(self) -> None:
        self._paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self._transport is not None:
            self._transport.resume_reading()
            try:
                self._process()
            except Exception as exc:
                self._abort(exc)

    def data_received(self, data: bytes) -> None:
        try:
            if (
                not self._buffer
                and not self._paused
                and len(data) >= 4
                and message_length(data) == len(data)
            ):
                self._handle(memoryview(data))  # the usual case: one whole message per read
                return
            self._buffer += data
            self._process()
        except Exception as exc:
            self._abort(exc)

    def _abort(self, exc: Exception) -> None:
        if isinstance(exc, ProtocolError):
            log.warning("closing connection %d: %s", self._id, exc)
        else:
            log.exception("closing connection %d after an internal error", self._id)
        self._buffer.clear()
        if self._transport is not None:
            self._transport.abort()

    def _process(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 4 and not self._paused and self._transport is not None:
            length = message_length(buffer)
            if len(buffer) < length:
                break
            with memoryview(buffer) as view:
                message = bytes(view[:length])
            del buffer[:length]
            self._handle(memoryview(message))

    def _handle(self, message: memoryview) -> None:
        reply = self._answer(message)
        if reply is not None and self._transport is not None:
            self._transport.write(reply)

    def _answer(self, message: memoryview) -> bytes | None:
        try:
            request = parse_message(message)
        except BadRequest as exc:
            log.warning("bad request on connection %d: %s", self._id, exc)
            if exc.more_to_come:
                return None
            error = CommandError(exc.code, str(exc)).reply()
            if exc.op_code == OP_QUERY:
                return encode_op_reply(error, exc.request_id)
            return encode_op_msg(error, exc.request_id)
        legacy = request.op_code == OP_QUERY
        reply = self._commands.run(request.db, request.command, self._id, legacy=legacy)
        if request.more_to_come:
            return None
        encode = encode_op_reply if legacy else encode_op_msg
        try:
            return encode(reply, request.request_id)
        except Exception as exc:  # a value the engine produced that BSON cannot hold
            return encode(from_exception(exc).reply(), request.request_id)


class DevStoreServer:
    """A running dev store; ``uri`` is what to give to a MongoClient."""

    def __init__(self, commands: Commands | None = None) -> None:
        self.commands = commands if commands is not None else Commands()
        self.host = ""
        self.port = 0
        self.uri = ""
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._connection_ids = itertools.count(1)

    def _protocol(self) -> _Connection:
        return _Connection(self, next(self._connection_ids))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port)
        sockname: Any = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], int(sockname[1])
        address = f"[{self.host}]" if ":" in self.host else self.host
        self.uri = f"mongodb://{address}:{self.port}"

    async def close(self) -> None:
        """Stop listening and close every connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self._connections):
            connection.close()
        await server.wait_closed()

    async def __aenter__(self) -> DevStoreServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def serve(host: str = "127.0.0.1", port: int = 0) -> DevStoreServer:
    """Start a dev store in the running event loop (port 0: any free port)."""
    server = DevStoreServer()
    await server.start(host, port)
    return server
