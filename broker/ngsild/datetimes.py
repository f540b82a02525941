"""NGSI-LD DateTime values (clause 4.6.3: ISO 8601, UTC, with a trailing Z).

System timestamps (createdAt, modifiedAt) are written as ``YYYY-MM-DDTHH:MM:SS.fffZ``:
strings in that form sort in time order, so the store can compare and index them
without converting types. A client's observedAt is kept exactly as sent (clients and the
conformance suite compare it as a string), once checked to be a UTC DateTime.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

__all__ = ["is_datetime", "now_iso"]

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?Z\Z")


def now_iso() -> str:
    """The current time in canonical form (millisecond precision)."""
    t = time.time()
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def is_datetime(value: object) -> bool:
    """True for a UTC DateTime string such as 2026-11-27T09:00:00Z or ...00.123Z."""
    if not isinstance(value, str) or _DATETIME.match(value) is None:
        return False
    try:
        datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True
