"""MongoDB wire-protocol framing, limited to what current drivers send.

PyMongo 4 speaks OP_MSG for everything except its first ``hello``/``isMaster``, which it
sends as a legacy OP_QUERY on ``admin.$cmd`` (answered with OP_REPLY). Parsing only
frames and decodes; what a command means is ``_commands``' business.

Reference: https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.errors import BSONError

__all__ = [
    "CODEC_OPTIONS",
    "HEADER_SIZE",
    "MAX_BSON_SIZE",
    "MAX_MESSAGE_SIZE",
    "OP_MSG",
    "OP_QUERY",
    "BadRequest",
    "ProtocolError",
    "Request",
    "encode_op_msg",
    "encode_op_reply",
    "message_length",
    "parse_message",
]

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

# OP_MSG flagBits. Bits 0-15 are "required": a receiver must reject any it does not know.
CHECKSUM_PRESENT = 1 << 0
MORE_TO_COME = 1 << 1
EXHAUST_ALLOWED = 1 << 16  # optional; answering without moreToCome is always allowed
_REQUIRED_BITS = 0xFFFF
_KNOWN_REQUIRED_BITS = CHECKSUM_PRESENT | MORE_TO_COME

MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48_000_000
HEADER_SIZE = 16

_HEADER = struct.Struct("<iiii")
_INT32 = struct.Struct("<i")
_UINT32 = struct.Struct("<I")
_OP_QUERY_FIXED = struct.Struct("<ii")  # numberToSkip, numberToReturn
_OP_REPLY_FIXED = struct.Struct("<iqii")  # responseFlags, cursorID, startingFrom, numberReturned
_QUERY_FAILURE = 1 << 1

# Documents are plain dicts; datetimes come in tz-aware UTC (the engine stores them naive
# UTC, as MongoDB does, and BSON encodes naive datetimes as UTC).
CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(
    document_class=dict, tz_aware=True, tzinfo=UTC
)

# The shortest well-formed messages. OP_MSG: flagBits and a body section holding an empty
# document. OP_QUERY: flags, a one-character namespace, skip and return, an empty query.
_MIN_LENGTHS = {OP_MSG: HEADER_SIZE + 4 + 1 + 5, OP_QUERY: HEADER_SIZE + 4 + 2 + 8 + 5}

_request_ids = itertools.count(1)
_DECODE_ERRORS = (BSONError, ValueError, IndexError, OverflowError, struct.error)


class ProtocolError(Exception):
    """The byte stream cannot be framed: the connection must be closed."""


class BadRequest(Exception):
    """A well-framed message whose content is invalid: answered with an error reply."""

    def __init__(
        self, message: str, *, code: int, request_id: int, op_code: int, more_to_come: bool
    ) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id
        self.op_code = op_code
        self.more_to_come = more_to_come


@dataclass(slots=True)
class Request:
    request_id: int
    op_code: int
    db: str
    command: dict[str, Any]
    more_to_come: bool = False


def message_length(buffer: bytes | bytearray | memoryview) -> int:
    """The total length announced by a message header (at least 4 bytes must be there)."""
    (length,) = _INT32.unpack_from(buffer, 0)
    if length < HEADER_SIZE or length > MAX_MESSAGE_SIZE:
        raise ProtocolError(f"invalid message length {length}")
    return int(length)


def parse_message(message: memoryview) -> Request:
    """Decode one complete message (header included)."""
    length, request_id, _response_to, op_code = _HEADER.unpack_from(message, 0)
    if length != len(message):
        raise ProtocolError("message length does not match its header")
    if op_code in _MIN_LENGTHS and length < _MIN_LENGTHS[op_code]:
        raise ProtocolError(f"message too short ({length} bytes) for opcode {op_code}")
    if op_code == OP_MSG:
        return _parse_op_msg(message, request_id)
    if op_code == OP_QUERY:
        return _parse_op_query(message, request_id)
    if op_code == OP_COMPRESSED:
        raise ProtocolError("OP_COMPRESSED received, but no compression was negotiated")
    raise ProtocolError(f"unsupported opcode {op_code}")


def _parse_op_msg(message: memoryview, request_id: int) -> Request:
    (flags,) = _UINT32.unpack_from(message, HEADER_SIZE)
    more_to_come = bool(flags & MORE_TO_COME)

    def bad(text: str, code: int = 9) -> BadRequest:
        return BadRequest(
            text, code=code, request_id=request_id, op_code=OP_MSG, more_to_come=more_to_come
        )

    unknown = flags & _REQUIRED_BITS & ~_KNOWN_REQUIRED_BITS
    if unknown:
        raise ProtocolError(f"unknown required OP_MSG flag bits {unknown:#x}")
    end = len(message) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos = HEADER_SIZE + 4
    body: dict[str, Any] | None = None
    sequences: list[tuple[str, list[dict[str, Any]]]] = []
    try:
        while pos < end:
            kind = message[pos]
            pos += 1
            (size,) = _INT32.unpack_from(message, pos)
            if size < 5 or pos + size > end:
                raise bad("OP_MSG section overruns the message")
            if kind == 0:
                if body is not None:
                    raise bad("OP_MSG has more than one body section")
                body = bson.decode(message[pos : pos + size], CODEC_OPTIONS)
            elif kind == 1:
                section = message[pos + 4 : pos + size]
                nul = bytes(section[:256]).index(0)
                identifier = bytes(section[:nul]).decode()
                docs = bson.decode_all(section[nul + 1 :], CODEC_OPTIONS)
                sequences.append((identifier, docs))
            else:
                raise bad(f"unknown OP_MSG section kind {kind}")
            pos += size
    except _DECODE_ERRORS as exc:
        raise bad(f"invalid BSON in OP_MSG: {exc}", 22) from None
    if pos != end:
        raise bad("OP_MSG sections do not fill the message")
    if body is None:
        raise bad("OP_MSG has no body section")
    for identifier, docs in sequences:
        if identifier in body:
            raise bad(f"duplicate field {identifier!r} in OP_MSG document sequence")
        body[identifier] = docs
    db = body.get("$db")
    if not isinstance(db, str) or not db:
        raise bad("OP_MSG requests require a $db argument", 40571)
    return Request(request_id, OP_MSG, db, body, more_to_come)


def _parse_op_query(message: memoryview, request_id: int) -> Request:
    pos = HEADER_SIZE + 4  # skip flags
    try:
        nul = bytes(message[pos : pos + 1024]).index(0)
        namespace = bytes(message[pos : pos + nul]).decode()
        pos += nul + 1 + _OP_QUERY_FIXED.size
        (size,) = _INT32.unpack_from(message, pos)
        query = bson.decode(message[pos : pos + size], CODEC_OPTIONS)
    except _DECODE_ERRORS as exc:
        raise BadRequest(
            f"invalid OP_QUERY: {exc}",
            code=22,
            request_id=request_id,
            op_code=OP_QUERY,
            more_to_come=False,
        ) from None
    inner = query.get("$query")
    if isinstance(inner, dict):
        query = inner
    db, _, collection = namespace.partition(".")
    if collection != "$cmd":
        raise BadRequest(
            f"OP_QUERY is only supported for commands, not on {namespace!r}",
            code=352,
            request_id=request_id,
            op_code=OP_QUERY,
            more_to_come=False,
        )
    return Request(request_id, OP_QUERY, db, query)


def _next_request_id() -> int:
    return next(_request_ids) & 0x7FFFFFFF


def encode_op_msg(reply: Mapping[str, Any], response_to: int) -> bytes:
    body = bson.encode(reply)
    header = _HEADER.pack(HEADER_SIZE + 5 + len(body), _next_request_id(), response_to, OP_MSG)
    return b"".join((header, b"\x00\x00\x00\x00\x00", body))  # flagBits 0, section kind 0


def encode_op_reply(reply: Mapping[str, Any], response_to: int, *, failure: bool = False) -> bytes:
    body = bson.encode(reply)
    fixed = _OP_REPLY_FIXED.pack(_QUERY_FAILURE if failure else 0, 0, 0, 1)
    header = _HEADER.pack(
        HEADER_SIZE + len(fixed) + len(body), _next_request_id(), response_to, OP_REPLY
    )
    return b"".join((header, fixed, body))
