"""A quick test for the commonest filters: fields compared with strings and numbers.

mongomock-ng spends about ten microseconds per document on any filter, so a query that
scans a few thousand documents (the outbox's under a backlog, an entity query over ten
thousand entities) costs tens or hundreds of milliseconds. The clauses that compare a
field (a dotted path through documents) with a string or a number by ``$eq``, ``$ne``,
``$in``, ``$nin``, ``$lt``, ``$lte``, ``$gt`` or ``$gte``, joined by ``$and``/``$or``,
are compiled here into a test that decides most documents in a few microseconds. The
test answers True, False or None (undecided: an array on the path, a boolean, NaN, a
document, any other operator...), with three-valued logic through ``$and`` and ``$or``;
only a decided answer is used, and mongomock-ng decides the others, as before.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from ._geo import geo_intersects, geo_within

__all__ = ["compile_filter", "field_value", "scalar_kind"]

#: Decided: True/False; undecided: None.
Test = Callable[[Mapping[str, Any]], bool | None]
Clause = Callable[[Any], bool | None]

_MISSING = object()
_ARRAY = object()  # an array on the path: MongoDB's array semantics, left to mongomock
_GEO: dict[str, Callable[[Any, Any], bool]] = {
    "$geoWithin": geo_within,
    "$geoIntersects": geo_intersects,
}
_OPS = frozenset({"$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"})


def scalar_kind(value: Any) -> str | None:
    """ "s" for a string, "n" for a number (not a boolean, not NaN), None otherwise: the
    values whose Python order is MongoDB's."""
    t = type(value)
    if t is str:
        return "s"
    if t is int or (t is float and not math.isnan(value)):
        return "n"
    return None


def _is_absent(value: Any) -> bool:
    return value is None or value is _MISSING


def _clause(op: str, arg: Any) -> Clause:
    if op in ("$in", "$nin"):
        wanted = frozenset(arg)
        positive = op == "$in"

        def member(value: Any) -> bool | None:
            if scalar_kind(value) is not None:
                return (value in wanted) is positive  # 1 == 1.0, as in MongoDB
            if _is_absent(value):
                return not positive  # no null in the list
            return None

        return member
    arg_kind = scalar_kind(arg)
    if op in ("$eq", "$ne"):
        positive = op == "$eq"

        def equal(value: Any) -> bool | None:
            kind = scalar_kind(value)
            if kind is not None:
                return (kind == arg_kind and value == arg) is positive
            if _is_absent(value):
                return not positive
            return None

        return equal
    compare: Callable[[Any, Any], bool] = {
        "$lt": operator.lt,
        "$lte": operator.le,
        "$gt": operator.gt,
        "$gte": operator.ge,
    }[op]

    def ordered(value: Any) -> bool | None:
        kind = scalar_kind(value)
        if kind is not None:
            return kind == arg_kind and compare(value, arg)  # other types never compare
        if _is_absent(value):
            return False
        return None

    return ordered


def field_value(path: str) -> Callable[[Mapping[str, Any]], Any]:
    """A reader of path's value in a document: the value, or markers for a missing field
    (_MISSING) and an array on the way (_ARRAY); a final array is returned as it is."""
    if "." not in path:
        return lambda doc: doc.get(path, _MISSING)
    parts = path.split(".")

    def resolve(doc: Mapping[str, Any]) -> Any:
        value: Any = doc
        for part in parts:
            t = type(value)
            if t is dict:
                value = value.get(part, _MISSING)
            elif t is list:
                return _ARRAY
            else:
                return _MISSING  # through a scalar or a missing field: nothing there
        return value

    return resolve


def _over_array(clause: Clause, op: str, values: list[Any]) -> bool | None:
    """A clause on an array of strings and numbers, as MongoDB applies it: to each
    element (a match by any of them), negated operators to all of them."""
    if any(scalar_kind(v) is None for v in values):
        return None
    if op in ("$ne", "$nin"):
        return all(clause(v) for v in values)
    return any(clause(v) for v in values)


def _undecided(doc: Mapping[str, Any]) -> bool | None:
    return None


def _field(path: str, condition: Any) -> Test:
    """The test of one field's condition; _undecided where it is not a simple one."""
    if type(path) is not str or not path or path.startswith("$") or path == "_id":
        return _undecided
    if any(not part for part in path.split(".")):
        return _undecided
    if isinstance(condition, Mapping) and len(condition) == 1:
        ((op, arg),) = condition.items()
        if op in _GEO:
            return _geo_field(path, _GEO[op], arg)
    clauses: list[tuple[str, Clause]] = []
    if scalar_kind(condition) is not None:
        clauses.append(("$eq", _clause("$eq", condition)))
    elif isinstance(condition, Mapping) and condition:
        for op, arg in condition.items():
            if op not in _OPS:
                return _undecided
            if op in ("$in", "$nin"):
                if not isinstance(arg, list) or any(scalar_kind(a) is None for a in arg):
                    return _undecided
            elif scalar_kind(arg) is None:
                return _undecided
            clauses.append((op, _clause(op, arg)))
    else:
        return _undecided
    resolve = field_value(path)

    def test(doc: Mapping[str, Any]) -> bool | None:
        value = resolve(doc)
        if value is _ARRAY:
            return None
        array = type(value) is list
        decided: bool | None = True
        for op, clause in clauses:
            outcome = _over_array(clause, op, value) if array else clause(value)
            if outcome is False:
                return False
            if outcome is None:
                decided = None
        return decided

    return test


def _geo_field(path: str, operator: Callable[[Any, Any], bool], spec: Any) -> Test:
    """$geoWithin / $geoIntersects through the dev store's own operators (see _geo), as
    mongomock-ng would call them, without its generic filter around them."""
    resolve = field_value(path)

    def test(doc: Mapping[str, Any]) -> bool | None:
        value = resolve(doc)
        if value is _ARRAY or type(value) is list:
            return None  # mongomock-ng tries each element: left to it
        return operator(None if value is _MISSING else value, spec)

    return test


def _combined(tests: list[Test], decisive: bool) -> Test:
    """$and (decisive: False, one False is enough) or $or (decisive: True), in
    three-valued logic: undecided unless some test decides or all of them do."""

    def combined(doc: Mapping[str, Any]) -> bool | None:
        decided: bool | None = not decisive
        for test in tests:
            outcome = test(doc)
            if outcome is decisive:
                return decisive
            if outcome is None:
                decided = None
        return decided

    return combined


def _compile(flt: Any) -> tuple[Test, bool]:
    """(test, whether any part of it can decide)."""
    if not isinstance(flt, Mapping) or not flt:
        return _undecided, False
    tests: list[Test] = []
    useful = False
    for key, condition in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                return _undecided, False  # mongomock raises the error
            parts = [_compile(sub) for sub in condition]
            inner = [test for test, _ in parts]
            tests.append(_combined(inner, decisive=key == "$or"))
            useful = useful or any(ok for _, ok in parts)
            continue
        test = _field(key, condition)
        useful = useful or test is not _undecided
        tests.append(test)
    return (tests[0] if len(tests) == 1 else _combined(tests, decisive=False)), useful


def compile_filter(flt: object) -> Test | None:
    """A test for flt, or None if no part of flt can be decided by it."""
    test, useful = _compile(flt)
    return test if useful else None
