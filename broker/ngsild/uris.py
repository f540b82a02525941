"""URI checks for entity ids, datasetIds and relationship targets (clause 4.5.1).

NGSI-LD requires these to be URIs. We accept any absolute URI (a scheme, a colon and a
non-empty rest, as RFC 3986 says, with IRI letters such as é or 奈 allowed) and refuse
whitespace, the characters RFC 3986 never allows unescaped, and invisible or
direction-changing characters that would make two different ids look the same.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import BadRequestData

__all__ = ["check_uri", "is_uri"]

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+\Z")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp"})
_INVISIBLE = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800})


def _visible(value: str) -> bool:
    if value.isascii():
        return True  # control characters and spaces are already refused by _URI
    for ch in value:
        if ord(ch) < 0x80:
            continue
        code = ord(ch)
        if (
            code in _INVISIBLE
            or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF
            or (code & 0xFFFE) == 0xFFFE
            or 0xFDD0 <= code <= 0xFDEF
            or unicodedata.category(ch) in _INVISIBLE_CATEGORIES
        ):
            return False
    return True


def is_uri(value: object) -> bool:
    return isinstance(value, str) and _URI.match(value) is not None and _visible(value)


def check_uri(value: object, what: str) -> None:
    if not is_uri(value):
        raise BadRequestData(
            f"{what} must be a URI (like urn:ngsi-ld:Vehicle:A4567), got {value!r}"
        )
