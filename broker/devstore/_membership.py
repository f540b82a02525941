"""A faster ``$in`` / ``$nin`` for the dev store when every listed value is a string.

mongomock-ng compares a stored value with each listed value in Python (NaN and NaT
checks included), so ``{"key": {"$in": [100 keys]}}`` over a few thousand documents costs
hundreds of thousands of comparisons. A string equals only an equal string, so for a list
of strings a set lookup gives the same answer; anything else (regexes, None, numbers,
documents) goes to mongomock-ng's own operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["install"]

Operator = Callable[[Any, Any], bool]


def _string_set(original: Operator) -> Operator:
    last: list[Any] = [None, frozenset()]  # the last list seen, and its set

    def in_op(doc_val: Any, search_val: Any) -> bool:
        if search_val is not last[0]:
            if not (
                isinstance(search_val, list | tuple)
                and search_val
                and all(type(v) is str for v in search_val)
            ):
                return original(doc_val, search_val)
            last[:] = [search_val, frozenset(search_val)]
        wanted: frozenset[str] = last[1]
        if type(doc_val) is str:
            return doc_val in wanted
        if type(doc_val) is list:
            return any(type(v) is str and v in wanted for v in doc_val)
        if isinstance(doc_val, list | tuple | dict):
            return original(doc_val, search_val)
        return False  # missing, None, a number, a date...: never equal to a string

    return in_op


def install(filtering: Any) -> None:
    """Put the fast operators in place (filtering: mongomock_ng.filtering)."""
    operators: dict[str, Any] = filtering._filterer_inst._operator_map
    original: Operator = filtering._in_op
    fast = _string_set(original)
    operators["$in"] = fast
    operators["$nin"] = lambda doc_val, search_val: not fast(doc_val, search_val)
