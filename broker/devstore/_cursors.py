"""Server-side cursors, so that drivers page through results with getMore as usual.

A cursor keeps the lazy iterator of its query, so a large result is only copied out of
the engine as its batches are asked for. Batches follow MongoDB's rules: 101 documents
by default in the first one, at most 16 MiB each; idle cursors die after 10 minutes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import bson
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument

from ._errors import CommandError

__all__ = ["DEFAULT_FIRST_BATCH", "CursorTable"]

DEFAULT_FIRST_BATCH = 101
MAX_BATCH_BYTES = 16 * 1024 * 1024
CURSOR_TIMEOUT = 600.0
_SWEEP_INTERVAL = 60.0
_END = object()


class _Cursor:
    __slots__ = ("last_used", "ns", "pending", "source")

    def __init__(self, ns: str, source: Iterator[Any], pending: bytes, now: float) -> None:
        self.ns = ns
        self.source = source
        self.pending: bytes | None = pending  # the next document, already encoded
        self.last_used = now


def _fill(
    source: Iterator[Any], pending: bytes | None, limit: int | None
) -> tuple[list[RawBSONDocument], bytes | None]:
    """Take up to limit documents (and 16 MiB); returns the batch and the next document."""
    batch: list[RawBSONDocument] = []
    size = 0
    while True:
        if pending is not None:
            raw, pending = pending, None
        else:
            doc: Any = next(source, _END)
            if doc is _END:
                return batch, None
            raw = bson.encode(doc)
        if (limit is not None and len(batch) >= limit) or (
            batch and size + len(raw) > MAX_BATCH_BYTES
        ):
            return batch, raw
        batch.append(RawBSONDocument(raw))
        size += len(raw)


class CursorTable:
    """The open cursors of one server (cursors are not tied to a connection)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._cursors: dict[int, _Cursor] = {}
        self._clock = clock
        self._last_sweep = clock()

    def __len__(self) -> int:
        return len(self._cursors)

    def first_batch(
        self,
        ns: str,
        source: Iterable[Any],
        batch_size: int | None = None,
        single_batch: bool = False,
    ) -> dict[str, Any]:
        """The ``cursor`` field of a find/aggregate/list reply; opens a cursor if needed."""
        iterator = iter(source)
        limit = DEFAULT_FIRST_BATCH if batch_size is None else batch_size
        batch, pending = _fill(iterator, None, limit)
        cursor_id = 0
        if pending is not None and not single_batch:
            cursor_id = self._open(ns, iterator, pending)
        return {"firstBatch": batch, "id": Int64(cursor_id), "ns": ns}

    def next_batch(self, cursor_id: int, ns: str, batch_size: int | None) -> dict[str, Any]:
        """The ``cursor`` field of a getMore reply."""
        cursor = self._cursors.get(cursor_id)
        if cursor is None:
            raise CommandError(43, f"cursor id {cursor_id} not found")
        if cursor.ns != ns:
            raise CommandError(
                13,
                f"Requested getMore on namespace '{ns}', but cursor belongs to a different "
                f"namespace {cursor.ns}",
            )
        try:
            batch, cursor.pending = _fill(cursor.source, cursor.pending, batch_size or None)
        except BaseException:
            del self._cursors[cursor_id]
            raise
        cursor.last_used = self._clock()
        if cursor.pending is None:
            del self._cursors[cursor_id]
            cursor_id = 0
        return {"nextBatch": batch, "id": Int64(cursor_id), "ns": ns}

    def kill(self, cursor_ids: Iterable[int]) -> tuple[list[Int64], list[Int64]]:
        """Close cursors; returns (killed, not found)."""
        killed: list[Int64] = []
        not_found: list[Int64] = []
        for cursor_id in cursor_ids:
            found = self._cursors.pop(cursor_id, None) is not None
            (killed if found else not_found).append(Int64(cursor_id))
        return killed, not_found

    def _open(self, ns: str, source: Iterator[Any], pending: bytes) -> int:
        now = self._clock()
        if now - self._last_sweep > _SWEEP_INTERVAL:
            self._last_sweep = now
            for stale in [
                i for i, c in self._cursors.items() if now - c.last_used > CURSOR_TIMEOUT
            ]:
                del self._cursors[stale]
        while True:
            cursor_id = secrets.randbits(63)
            if cursor_id and cursor_id not in self._cursors:
                break
        self._cursors[cursor_id] = _Cursor(ns, source, pending, now)
        return cursor_id
