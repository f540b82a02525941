"""The dev store's fast $in / $nin for lists of strings gives mongomock-ng's answers."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from broker.devstore import _engine  # noqa: F401  (installs the fast operators)
from broker.devstore._membership import _string_set

_filtering: Any = importlib.import_module("mongomock_ng.filtering")
NOTHING = _filtering.NOTHING

STORED = ["a", "b", "", "A", 1, 1.0, None, True, NOTHING, ["a", 2], ["x"], [], {"a": 1}, [["a"]]]
SEARCHES: list[Any] = [
    ["a"],
    ["a", "b", "zz"],
    ["x", "A"],
    [""],
    ["a", None],
    ["a", 1],
    [re.compile("^a")],
    [["a"]],
    [["a", 2]],
]


@pytest.mark.parametrize("search", SEARCHES, ids=repr)
def test_fast_in_agrees_with_mongomock(search: list[Any]) -> None:
    fast = _string_set(_filtering._in_op)
    for stored in STORED:
        assert fast(stored, search) == _filtering._in_op(stored, search), (stored, search)


def test_installed_operators_filter_documents() -> None:
    docs = [{"k": "a"}, {"k": "b"}, {"k": ["c", "a"]}, {"k": None}, {}, {"k": 3}]
    apply = _filtering.filter_applies
    assert [apply({"k": {"$in": ["a"]}}, d) for d in docs] == [1, 0, 1, 0, 0, 0]
    assert [apply({"k": {"$nin": ["a"]}}, d) for d in docs] == [0, 1, 0, 1, 1, 1]
    assert [apply({"k": {"$in": ["b", None]}}, d) for d in docs] == [0, 1, 0, 1, 1, 0]
