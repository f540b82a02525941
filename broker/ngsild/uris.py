"""URI checks for entity ids, datasetIds and relationship targets (clause 4.5.1).

NGSI-LD requires these to be URIs. We accept any absolute URI (a scheme, a colon and a
non-empty rest, as RFC 3986 says) without whitespace or the characters that RFC 3986
never allows unescaped, which is what real deployments send (urn:ngsi-ld:..., https://...).
"""

from __future__ import annotations

import re

from .errors import BadRequestData

__all__ = ["check_uri", "is_uri"]

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+\Z")


def is_uri(value: object) -> bool:
    return isinstance(value, str) and _URI.match(value) is not None


def check_uri(value: object, what: str) -> None:
    if not is_uri(value):
        raise BadRequestData(
            f"{what} must be a URI (like urn:ngsi-ld:Vehicle:A4567), got {value!r}"
        )
