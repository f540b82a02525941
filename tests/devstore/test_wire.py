"""Framing, raw-socket behaviour, and robustness against malformed input."""

from __future__ import annotations

import socket
import struct
from typing import Any

import bson
import pytest
from pymongo import MongoClient

from broker.devstore import DevStoreProcess
from broker.devstore._wire import (
    OP_MSG,
    OP_QUERY,
    BadRequest,
    ProtocolError,
    message_length,
    parse_message,
)

_HEADER = struct.Struct("<iiii")


def op_msg(
    body: dict[str, Any],
    sequences: tuple[tuple[str, list[dict[str, Any]]], ...] = (),
    *,
    flags: int = 0,
    request_id: int = 7,
) -> bytes:
    payload = b"\x00" + bson.encode(body)
    for identifier, docs in sequences:
        section = identifier.encode() + b"\x00" + b"".join(bson.encode(doc) for doc in docs)
        payload += b"\x01" + struct.pack("<i", 4 + len(section)) + section
    if flags & 1:
        payload += b"\x00\x00\x00\x00"  # a checksum (not verified)
    message = struct.pack("<I", flags) + payload
    return _HEADER.pack(16 + len(message), request_id, 0, OP_MSG) + message


def op_query(namespace: str, query: dict[str, Any], request_id: int = 9) -> bytes:
    message = (
        struct.pack("<i", 0)
        + namespace.encode()
        + b"\x00"
        + struct.pack("<ii", 0, -1)
        + bson.encode(query)
    )
    return _HEADER.pack(16 + len(message), request_id, 0, OP_QUERY) + message


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data


def read_reply(sock: socket.socket) -> tuple[int, int, dict[str, Any]]:
    """(responseTo, opCode, document) of the next reply."""
    length, _request_id, response_to, op_code = _HEADER.unpack(_recv_exactly(sock, 16))
    rest = _recv_exactly(sock, length - 16)
    if op_code == OP_MSG:
        assert rest[:5] == b"\x00\x00\x00\x00\x00"
        return response_to, op_code, bson.decode(rest[5:])
    assert op_code == 1  # OP_REPLY: flags, cursorID, startingFrom, numberReturned, docs
    assert struct.unpack_from("<i", rest, 16)[0] == 1
    return response_to, op_code, bson.decode(rest[20:])


def connect(devstore: DevStoreProcess) -> socket.socket:
    host, port = devstore.uri.removeprefix("mongodb://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def test_parse_op_msg_with_document_sequence_and_checksum() -> None:
    raw = op_msg(
        {"insert": "c", "$db": "d"},
        (("documents", [{"_id": 1}, {"_id": 2}]),),
        flags=1 | 2,
        request_id=42,
    )
    assert message_length(raw) == len(raw)
    request = parse_message(memoryview(raw))
    assert request.request_id == 42
    assert request.db == "d"
    assert request.more_to_come
    assert request.command == {"insert": "c", "$db": "d", "documents": [{"_id": 1}, {"_id": 2}]}


def test_parse_op_query_handshake() -> None:
    request = parse_message(memoryview(op_query("admin.$cmd", {"$query": {"isMaster": 1}})))
    assert (request.op_code, request.db, request.command) == (OP_QUERY, "admin", {"isMaster": 1})


def test_parse_rejects_malformed_messages() -> None:
    with pytest.raises(ProtocolError):
        message_length(b"\xff\xff\xff\xff")
    with pytest.raises(ProtocolError):
        message_length(struct.pack("<i", 100_000_000))
    with pytest.raises(ProtocolError):
        parse_message(memoryview(_HEADER.pack(20, 1, 0, 9999) + b"\x00" * 4))
    with pytest.raises(BadRequest) as caught:
        parse_message(memoryview(op_msg({"ping": 1})))  # no $db
    assert caught.value.code == 40571
    broken = bytearray(op_msg({"ping": 1, "$db": "admin"}))
    broken[-1] = 0x05  # the document no longer ends with its terminating NUL
    with pytest.raises(BadRequest) as caught:
        parse_message(memoryview(bytes(broken)))
    assert caught.value.code == 22


def test_raw_op_msg_and_legacy_op_query(devstore: DevStoreProcess) -> None:
    with connect(devstore) as sock:
        sock.sendall(op_query("admin.$cmd", {"isMaster": 1, "helloOk": True}, request_id=9))
        response_to, op_code, reply = read_reply(sock)
        assert (response_to, op_code) == (9, 1)
        assert reply["ismaster"] is True
        assert reply["helloOk"] is True

        sock.sendall(op_query("admin.$cmd", {"find": "c"}, request_id=10))
        assert read_reply(sock)[2]["code"] == 352  # only the handshake may use OP_QUERY

        # Two pipelined messages in one write, the second one split across two writes.
        first = op_msg({"ping": 1, "$db": "admin"}, request_id=11)
        second = op_msg({"hello": 1, "$db": "admin"}, request_id=12)
        sock.sendall(first + second[:10])
        sock.sendall(second[10:])
        assert read_reply(sock)[:2] == (11, OP_MSG)
        response_to, _, reply = read_reply(sock)
        assert response_to == 12
        assert reply["isWritablePrimary"] is True

        # moreToCome: no reply, but the write happens.
        sock.sendall(
            op_msg(
                {"insert": "raw", "$db": "rawdb", "ordered": True},
                (("documents", [{"_id": "quiet"}]),),
                flags=2,
                request_id=13,
            )
        )
        sock.sendall(op_msg({"count": "raw", "$db": "rawdb"}, request_id=14))
        response_to, _, reply = read_reply(sock)
        assert (response_to, reply["n"]) == (14, 1)

        # Invalid BSON in a well-framed message: an error reply, the connection stays.
        broken = bytearray(op_msg({"ping": 1, "$db": "admin"}, request_id=15))
        broken[-1] = 0x05
        sock.sendall(bytes(broken))
        response_to, _, reply = read_reply(sock)
        assert (response_to, reply["ok"], reply["code"]) == (15, 0.0, 22)
        sock.sendall(op_msg({"dropDatabase": 1, "$db": "rawdb"}, request_id=16))
        assert read_reply(sock)[2]["ok"] == 1.0


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff" * 64,  # a negative length
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",  # an absurd length
        _HEADER.pack(24, 1, 0, 4242) + b"\x00" * 8,  # an unknown opcode
        _HEADER.pack(16, 1, 0, OP_MSG),  # an OP_MSG without flags or sections
    ],
)
def test_garbage_closes_only_that_connection(devstore: DevStoreProcess, garbage: bytes) -> None:
    with MongoClient[dict[str, Any]](devstore.uri, serverSelectionTimeoutMS=5000) as client:
        assert client.admin.command("ping")["ok"] == 1.0  # a connection open before
        with connect(devstore) as sock:
            sock.sendall(garbage)
            assert sock.recv(1024) == b""  # the server closed it
        assert client.admin.command("ping")["ok"] == 1.0
    with MongoClient[dict[str, Any]](devstore.uri, serverSelectionTimeoutMS=5000) as client:
        assert client.admin.command("ping")["ok"] == 1.0  # and new ones work


def test_truncated_messages_are_protocol_errors() -> None:
    for op_code in (OP_MSG, OP_QUERY):
        with pytest.raises(ProtocolError):
            parse_message(memoryview(_HEADER.pack(16, 1, 0, op_code)))
