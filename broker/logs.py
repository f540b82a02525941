"""Logging setup: readable text (the default) or one JSON object per line (LOG_FORMAT=json).

Both formats carry the id of the request being handled when a line is logged: the HTTP
layer binds it with ``REQUEST_ID`` (a context variable, so each request's task sees its
own), and the formatters read it. JSON lines hold ``time``, ``level``, ``logger``,
``message``, ``request_id`` (inside a request), ``exception`` (a traceback, as one
string) and every field passed with ``extra=``.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from aiohttp.http_exceptions import HttpProcessingError

__all__ = [
    "FORMATS",
    "REQUEST_ID",
    "ClientProtocolErrors",
    "JsonFormatter",
    "TextFormatter",
    "configure",
    "handler",
]

FORMATS = ("text", "json")

#: The id of the request being handled, if any (set by the HTTP layer).
REQUEST_ID: ContextVar[str | None] = ContextVar("kaido_request_id", default=None)

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TEXT_IN_REQUEST = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


def _request_id(record: logging.LogRecord) -> str | None:
    """The id given with extra={"request_id": ...}, else the one of the current request."""
    given = getattr(record, "request_id", None)
    return str(given) if given is not None else REQUEST_ID.get()


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id]: message``; no brackets outside a request."""

    def __init__(self) -> None:
        super().__init__(_TEXT)
        self._in_request = logging.PercentStyle(_TEXT_IN_REQUEST)

    def formatMessage(self, record: logging.LogRecord) -> str:
        request_id = _request_id(record)
        if request_id is None:
            return super().formatMessage(record)
        return self._in_request.format(_with(record, request_id=request_id))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; tracebacks are a field, never extra lines."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id is not None:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


def _with(record: logging.LogRecord, **fields: object) -> logging.LogRecord:
    """A copy of the record with more attributes (the original goes to other handlers too)."""
    copy = logging.makeLogRecord(record.__dict__)
    copy.__dict__.update(fields)
    return copy


def handler(log_format: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to stream (stderr by default) in the given format."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {log_format!r}")
    out = logging.StreamHandler(stream if stream is not None else sys.stderr)
    out.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return out


class ClientProtocolErrors(logging.Filter):
    """aiohttp logs a request it cannot parse (a request line over MAX_URL_BYTES, a
    malformed header) as an error with a traceback, though it answers the client 400:
    such a line becomes one INFO line that says what was wrong, so that clients cannot
    fill the error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.getMessage()}: {exc.code}, {exc.message}"
            record.args = ()
            record.exc_info = record.exc_text = None
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


_CLIENT_PROTOCOL_ERRORS = ClientProtocolErrors()


def configure(level: str = "INFO", log_format: str = "text", stream: TextIO | None = None) -> None:
    """Set up the root logger of the process: one handler, in the given format."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format, stream))
    root.setLevel(level)
    server = logging.getLogger("aiohttp.server")
    if _CLIENT_PROTOCOL_ERRORS not in server.filters:
        server.addFilter(_CLIENT_PROTOCOL_ERRORS)
