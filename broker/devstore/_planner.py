"""Index use: which declared index a filter can be answered from, and that answer.

mongomock scans every document of a collection for every query, then sorts the matches.
MongoDB walks an index instead: the broker's entity queries (``type`` equality with a
sort on ``_id``, see broker/store/indexes.py) read the ``type_id`` index in order and stop
after ``limit`` matches. The dev store does the same for any filter that pins the first
field of a declared index on (field, ``_id``) to one or more strings:

- a :class:`View` of the index's first field (value -> the ``_id``\\ s of the documents
  holding it, in ``_id`` order) is built from the documents on first use and kept until
  the next write to the store (any write: the clock is the engine's);
- the candidates are read from it in ``_id`` order, and every candidate is still checked
  against the whole filter, so the view only has to hold a superset of the matches.

Where that does not apply (no such index, an ``_id`` that is not a string, a TTL index)
the caller scans as before. ``explain`` describes the plan taken, in MongoDB's terms.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Clock",
    "IndexPlan",
    "View",
    "build_view",
    "equality_values",
    "plan_for",
    "winning_plan",
]

_MISSING = object()


class Clock:
    """Counts writes to the engine: a view built at another count is stale."""

    __slots__ = ("writes",)

    def __init__(self) -> None:
        self.writes = 0

    def tick(self) -> None:
        self.writes += 1


@dataclass
class View:
    """One field of a collection's documents: string value -> ids holding it, sorted.

    ids is None where an ``_id`` is not a string: the order of other types is BSON's,
    not Python's, and such a collection is scanned (until its next write)."""

    writes: int
    documents_id: int
    ids: dict[str, list[str]] | None


def _strings(value: Any) -> Iterable[str]:
    """The index keys a field's value contributes (a multikey index takes array elements,
    each once)."""
    if type(value) is str:
        return (value,)
    if type(value) is list:
        return dict.fromkeys(v for v in value if type(v) is str)
    return ()


def build_view(documents: Mapping[Any, Mapping[str, Any]], path: str, writes: int) -> View:
    """The view of a top-level field of documents (keyed by ``_id``)."""
    ids: dict[str, list[str]] = {}
    for key, doc in documents.items():
        if type(key) is not str:
            return View(writes, id(documents), None)
        for value in _strings(doc.get(path)):
            bucket = ids.get(value)
            if bucket is None:
                ids[value] = [key]
            else:
                bucket.append(key)
    for bucket in ids.values():
        bucket.sort()
    return View(writes, id(documents), ids)


def equality_values(flt: Mapping[str, Any], path: str) -> list[str] | None:
    """Strings of which path must hold one for flt to match, or None if flt does not say.

    Read from the top level of flt and from the members of a top-level ``$and``.
    """
    found = _condition_values(flt.get(path, _MISSING))
    if found is not None:
        return found
    conjunction = flt.get("$and")
    if isinstance(conjunction, list):
        for member in conjunction:
            if isinstance(member, Mapping):
                found = equality_values(member, path)
                if found is not None:
                    return found
    return None


def _condition_values(condition: Any) -> list[str] | None:
    if type(condition) is str:
        return [condition]
    if not isinstance(condition, Mapping) or len(condition) != 1:
        return None
    ((operator, argument),) = condition.items()
    if operator == "$eq" and type(argument) is str:
        return [argument]
    if operator in ("$in", "$all") and isinstance(argument, list) and argument:
        if not all(type(v) is str for v in argument):
            return None
        # $in: any of them; $all: each of them, so the first one's entries are a superset.
        return list(dict.fromkeys(argument)) if operator == "$in" else [argument[0]]
    return None


@dataclass(frozen=True)
class IndexPlan:
    """Read the documents whose path holds one of values, from index, in _id order."""

    index: str
    key: dict[str, Any]
    path: str
    values: tuple[str, ...]

    def ids(self, view: View, direction: int) -> Iterator[str]:
        assert view.ids is not None
        buckets = [view.ids.get(value, []) for value in self.values]
        if len(buckets) == 1:
            yield from (buckets[0] if direction > 0 else reversed(buckets[0]))
            return
        # Several values: merge their sorted buckets (MongoDB's SORT_MERGE); a document
        # holding two of them (a multikey array) comes once.
        merged = heapq.merge(
            *(b if direction > 0 else reversed(b) for b in buckets), reverse=direction < 0
        )
        last: str | None = None
        for key in merged:
            if key != last:
                yield key
                last = key


def _first_field(index: Mapping[str, Any]) -> str | None:
    """The field f of an index on (f, _id): its entries for one value of f are in _id
    order, which is what a View holds. Other indexes are not modelled."""
    key = index.get("key")
    if not key or index.get("partialFilterExpression") is not None or index.get("sparse"):
        return None
    if len(key) != 2 or key[1][0] != "_id" or key[1][1] not in (1, -1):
        return None
    path, direction = key[0]
    if path == "_id" or "." in path or direction not in (1, -1):
        return None
    return str(path)


def plan_for(indexes: Mapping[str, Mapping[str, Any]], flt: object) -> IndexPlan | None:
    """The first declared index whose first field flt pins to strings, if any."""
    if not isinstance(flt, Mapping):
        return None
    for name, index in indexes.items():
        path = _first_field(index)
        if path is None:
            continue
        values = equality_values(flt, path)
        if values is not None:
            return IndexPlan(name, dict(index["key"]), path, tuple(values))
    return None


def winning_plan(
    plan: IndexPlan | None, by_id: bool, sort: Mapping[str, Any] | None, direction: int
) -> dict[str, Any]:
    """explain's ``queryPlanner.winningPlan`` for the way the dev store reads: plan is
    the index it walks (in _id order, so no sort stage), None for a scan."""
    if by_id:
        return {"stage": "IDHACK"}
    stage: dict[str, Any]
    if plan is not None:
        direction *= list(plan.key.values())[1]  # an index on (f, _id: -1) runs backward
        stage = {
            "stage": "FETCH",
            "inputStage": {
                "stage": "IXSCAN",
                "keyPattern": plan.key,
                "indexName": plan.index,
                "direction": "forward" if direction > 0 else "backward",
            },
        }
        if len(plan.values) > 1:
            stage["inputStage"] = {"stage": "SORT_MERGE", "inputStages": [stage["inputStage"]]}
        return stage
    stage = {"stage": "COLLSCAN", "direction": "forward"}
    if sort:
        stage = {"stage": "SORT", "sortPattern": dict(sort), "inputStage": stage}
    return stage
