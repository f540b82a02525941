"""Encode names so that MongoDB can never read them as paths or operators.

Attribute names are stored expanded (``https://smartdatamodels.org/...``), full of dots,
and JSON values may hold keys that start with ``$``. Both are percent-escaped: ``%`` ->
``%25``, ``.`` -> ``%2E``, ``$`` -> ``%24``. Every ``%`` in a stored key was written by
us, so decoding is an exact inverse.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import unquote

__all__ = ["decode_key", "decode_value", "encode_key", "encode_value"]

_ESCAPES = str.maketrans({"%": "%25", ".": "%2E", "$": "%24"})


@lru_cache(maxsize=65536)
def encode_key(name: str) -> str:
    return name.translate(_ESCAPES)


@lru_cache(maxsize=65536)
def decode_key(key: str) -> str:
    return unquote(key) if "%" in key else key


def _needs(key: str) -> bool:
    return "." in key or "$" in key or "%" in key


def encode_value(value: Any) -> Any:
    """A JSON value with every object key encoded (values are untouched)."""
    if isinstance(value, dict):
        return {(encode_key(k) if _needs(k) else k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {(decode_key(k) if "%" in k else k): decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value
