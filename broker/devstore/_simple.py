"""A quick test for the simplest filters: top-level fields compared with strings.

mongomock-ng spends about ten microseconds per document on any filter, so a query that
scans a few thousand documents (the outbox's, under a backlog) costs tens of
milliseconds. Filters made only of ``$eq``, ``$ne``, ``$in``, ``$nin``, ``$lt``, ``$lte``,
``$gt`` and ``$gte`` between top-level fields and strings are compiled here into a test
that decides most documents in a microsecond: a string is compared as Python compares it
(code points, the same order as MongoDB's UTF-8 bytes), a missing or null field is decided
for equality and membership. Any other stored value (a list, a number, a document...)
leaves the document undecided, and mongomock-ng's own filter decides it, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["compile_filter"]

#: Decided: True/False; undecided: None.
Test = Callable[[Mapping[str, Any]], bool | None]

_MISSING = object()
_OPS = frozenset({"$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"})


def _clause(field: str, op: str, arg: Any) -> Callable[[Any], bool | None]:
    if op in ("$in", "$nin"):
        wanted = frozenset(arg)
        positive = op == "$in"

        def member(value: Any) -> bool | None:
            if type(value) is str:
                return (value in wanted) is positive
            if value is None or value is _MISSING:
                return not positive  # no null in a list of strings
            return None

        return member
    if op in ("$eq", "$ne"):
        positive = op == "$eq"

        def equal(value: Any) -> bool | None:
            if type(value) is str:
                return (value == arg) is positive
            if value is None or value is _MISSING:
                return not positive
            return None

        return equal
    compare: Callable[[str], bool] = {
        "$lt": arg.__gt__,
        "$lte": arg.__ge__,
        "$gt": arg.__lt__,
        "$gte": arg.__le__,
    }[op]

    def ordered(value: Any) -> bool | None:
        return compare(value) if type(value) is str else None

    return ordered


def compile_filter(flt: object) -> Test | None:
    """A test for flt, or None if flt is not one of the simple filters."""
    if not isinstance(flt, Mapping) or not flt:
        return None
    clauses: list[tuple[str, Callable[[Any], bool | None]]] = []
    for field, condition in flt.items():
        if type(field) is not str or field.startswith("$") or "." in field or field == "_id":
            return None
        if type(condition) is str:
            clauses.append((field, _clause(field, "$eq", condition)))
            continue
        if not isinstance(condition, Mapping) or not condition:
            return None
        for op, arg in condition.items():
            if op not in _OPS:
                return None
            if op in ("$in", "$nin"):
                if not isinstance(arg, list) or not all(type(a) is str for a in arg):
                    return None
            elif type(arg) is not str:
                return None
            clauses.append((field, _clause(field, op, arg)))

    def test(doc: Mapping[str, Any]) -> bool | None:
        decided = True
        for field, clause in clauses:
            outcome = clause(doc.get(field, _MISSING))
            if outcome is False:
                return False  # one clause is enough to exclude the document
            if outcome is None:
                decided = False
        return True if decided else None

    return test
