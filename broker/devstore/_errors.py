"""Command errors in MongoDB's shape, so that PyMongo raises what a real server would cause.

Every failure becomes ``{ok: 0, errmsg, code, codeName}``: the codes are MongoDB's (PyMongo
picks DuplicateKeyError, CursorNotFound handling, etc. from them), and engine exceptions
are mapped here instead of ever dropping the connection.
"""

from __future__ import annotations

import logging
from typing import Any

from bson.errors import InvalidDocument
from pymongo.errors import (
    CollectionInvalid,
    InvalidName,
    OperationFailure,
    PyMongoError,
)

__all__ = ["CommandError", "code_name", "from_exception"]

log = logging.getLogger(__name__)

# MongoDB's names for the codes the dev store uses (src/mongo/base/error_codes.yml).
_CODE_NAMES = {
    1: "InternalError",
    2: "BadValue",
    9: "FailedToParse",
    13: "Unauthorized",
    14: "TypeMismatch",
    22: "InvalidBSON",
    26: "NamespaceNotFound",
    27: "IndexNotFound",
    43: "CursorNotFound",
    48: "NamespaceExists",
    59: "CommandNotFound",
    66: "ImmutableField",
    67: "CannotCreateIndex",
    72: "InvalidOptions",
    73: "InvalidNamespace",
    85: "IndexOptionsConflict",
    86: "IndexKeySpecsConflict",
    121: "DocumentValidationFailure",
    238: "NotImplemented",
    352: "UnsupportedOpQueryCommand",
    11000: "DuplicateKey",
}


def code_name(code: int) -> str:
    # MongoDB names its unnamed "location" codes this way, e.g. Location40324.
    return _CODE_NAMES.get(code, f"Location{code}")


class CommandError(Exception):
    """A command failure to send back as ``{ok: 0, ...}`` (extra: fields such as keyValue)."""

    def __init__(self, code: int, errmsg: str, **extra: Any) -> None:
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg
        self.extra = extra

    def reply(self) -> dict[str, Any]:
        return {
            "ok": 0.0,
            "errmsg": self.errmsg,
            "code": self.code,
            "codeName": code_name(self.code),
            **self.extra,
        }

    def write_error(self, index: int) -> dict[str, Any]:
        """The same failure as one entry of a write command's ``writeErrors``."""
        return {"index": index, "code": self.code, "errmsg": self.errmsg, **self.extra}


def _message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OperationFailure) and exc.details is not None:
        suffix = f", full error: {exc.details}"
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text or type(exc).__name__


def from_exception(exc: BaseException) -> CommandError:
    """Map an exception raised by the engine (mongomock-ng) or by our own code."""
    if isinstance(exc, CommandError):
        return exc
    text = _message(exc)
    if isinstance(exc, OperationFailure):
        code = exc.code if isinstance(exc.code, int) and exc.code > 0 else None
        if code is None:
            lowered = text.lower()
            code = 66 if "immutable" in lowered or "_id field cannot be changed" in lowered else 2
        extra: dict[str, Any] = {}
        details = exc.details
        if isinstance(details, dict):
            for key in ("keyPattern", "keyValue", "errInfo"):
                if key in details:
                    extra[key] = details[key]
        return CommandError(code, text, **extra)
    if isinstance(exc, CollectionInvalid):
        return CommandError(48, text)
    if isinstance(exc, InvalidName):
        return CommandError(73, text)
    if isinstance(exc, NotImplementedError):
        return CommandError(238, f"not supported by the Kaido dev store: {text}")
    if isinstance(exc, InvalidDocument | ValueError | TypeError | PyMongoError):
        return CommandError(2, text)
    log.exception("dev store internal error", exc_info=exc)
    return CommandError(1, f"dev store internal error: {type(exc).__name__}: {text}")
