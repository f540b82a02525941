"""NGSI-LD DateTime values, kept in one canonical UTC form.

Every stored timestamp (createdAt, modifiedAt, observedAt) is written as
``YYYY-MM-DDTHH:MM:SS.fffZ``: strings in that form sort in time order, so the store can
compare and index them without converting types, and responses look the same whatever
offset a client sent (as Orion-LD renders them).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["canonical_datetime", "now_iso"]


def now_iso() -> str:
    """The current time in canonical form (millisecond precision)."""
    t = time.time()
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def canonical_datetime(value: object) -> str | None:
    """The canonical form of an ISO 8601 date-time string, or None if it is not one.

    A date-time without an offset is taken as UTC, as Orion-LD does.
    """
    if not isinstance(value, str) or len(value) < 16 or value[4:5] != "-" or "T" not in value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"
