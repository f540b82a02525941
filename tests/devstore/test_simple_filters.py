"""The dev store's quick test of simple filters decides as mongomock-ng's filter does."""

from __future__ import annotations

import importlib
import itertools
from typing import Any

import pytest

from broker.devstore._simple import compile_filter

_filtering: Any = importlib.import_module("mongomock_ng.filtering")

VALUES: list[Any] = ["a", "b", "", "é", "A", None, 1, ["a"], {"a": 1}, True]
DOCS: list[dict[str, Any]] = (
    [{}] + [{"f": v} for v in VALUES] + [{"f": "a", "g": v} for v in VALUES]
)
FILTERS: list[dict[str, Any]] = [
    {"f": "a"},
    {"f": {"$eq": "b"}},
    {"f": {"$ne": "a"}},
    {"f": {"$in": ["a", "é"]}},
    {"f": {"$nin": ["a", ""]}},
    {"f": {"$lt": "b"}},
    {"f": {"$lte": "a"}},
    {"f": {"$gt": "a"}},
    {"f": {"$gte": "b", "$lt": "z"}},
    {"f": "a", "g": {"$ne": "x"}},
    {"f": {"$in": ["a"]}, "g": {"$in": ["a", "b"]}, "h": {"$ne": "w"}},
]
NOT_SIMPLE: list[Any] = [
    {},
    {"f.g": "a"},
    {"_id": "a"},
    {"$or": [{"f": "a"}]},
    {"f": 1},
    {"f": {"$in": ["a", None]}},
    {"f": {"$exists": True}},
    {"f": {"$lt": 3}},
    {"f": {}},
]


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_decisions_agree_with_mongomock(flt: dict[str, Any]) -> None:
    test = compile_filter(flt)
    assert test is not None
    undecided = 0
    for doc in DOCS:
        expected = bool(_filtering.filter_applies(flt, doc))
        decided = test(doc)
        if decided is None:
            undecided += 1
        else:
            assert decided == expected, (flt, doc)
    assert undecided < len(DOCS)  # it does decide


@pytest.mark.parametrize("flt", NOT_SIMPLE, ids=repr)
def test_other_filters_are_left_to_mongomock(flt: Any) -> None:
    assert compile_filter(flt) is None


def test_strings_order_as_code_points() -> None:
    """MongoDB compares strings by their UTF-8 bytes: the order of their code points."""
    words = ["a", "b", "z", "é", "€", "𝄞", "A", ""]
    for x, y in itertools.product(words, words):
        assert (x < y) == (x.encode() < y.encode())
