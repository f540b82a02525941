"""Server-side cursor bookkeeping: batching, exhaustion, namespaces and idle timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bson
import pytest

from broker.devstore._cursors import CURSOR_TIMEOUT, CursorTable
from broker.devstore._errors import CommandError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def docs(count: int) -> Iterator[dict[str, Any]]:
    return ({"i": i} for i in range(count))


def ids(batch: list[Any]) -> list[int]:
    return [bson.decode(doc.raw)["i"] for doc in batch]


def test_batches_and_exhaustion() -> None:
    table = CursorTable()
    first = table.first_batch("db.c", docs(5), batch_size=2)
    assert ids(first["firstBatch"]) == [0, 1]
    cursor_id = first["id"]
    assert cursor_id != 0
    assert len(table) == 1
    more = table.next_batch(cursor_id, "db.c", 2)
    assert (ids(more["nextBatch"]), more["id"]) == ([2, 3], cursor_id)
    last = table.next_batch(cursor_id, "db.c", None)
    assert (ids(last["nextBatch"]), last["id"]) == ([4], 0)
    assert len(table) == 0

    exact = table.first_batch("db.c", docs(3), batch_size=3)  # nothing left: no cursor
    assert exact["id"] == 0
    single = table.first_batch("db.c", docs(300), single_batch=True)
    assert (len(single["firstBatch"]), single["id"]) == (101, 0)
    empty_first = table.first_batch("db.c", docs(1), batch_size=0)
    assert (empty_first["firstBatch"], empty_first["id"] != 0) == ([], True)


def test_wrong_namespace_unknown_ids_and_kill() -> None:
    table = CursorTable()
    cursor_id = table.first_batch("db.c", docs(10), batch_size=1)["id"]
    with pytest.raises(CommandError) as caught:
        table.next_batch(cursor_id, "db.other", None)
    assert caught.value.code == 13
    with pytest.raises(CommandError) as caught:
        table.next_batch(cursor_id + 1, "db.c", None)
    assert caught.value.code == 43
    assert table.kill([cursor_id, 7]) == ([cursor_id], [7])
    assert len(table) == 0


def test_a_failing_source_closes_its_cursor() -> None:
    def failing() -> Iterator[dict[str, Any]]:
        yield {"i": 0}
        yield {"i": 1}
        raise TypeError("cannot compare")

    table = CursorTable()
    cursor_id = table.first_batch("db.c", failing(), batch_size=1)["id"]
    with pytest.raises(TypeError):
        table.next_batch(cursor_id, "db.c", None)
    assert len(table) == 0


def test_idle_cursors_time_out() -> None:
    clock = Clock()
    table = CursorTable(clock)
    stale = table.first_batch("db.c", docs(10), batch_size=1)["id"]
    clock.now += CURSOR_TIMEOUT / 2
    busy = table.first_batch("db.c", docs(10), batch_size=1)["id"]
    clock.now += CURSOR_TIMEOUT / 2 + 1
    table.next_batch(busy, "db.c", 1)  # still young
    table.first_batch("db.c", docs(10), batch_size=1)  # opening a cursor sweeps
    with pytest.raises(CommandError):
        table.next_batch(stale, "db.c", 1)
    assert table.next_batch(busy, "db.c", 1)["id"] == busy
