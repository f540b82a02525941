"""The dev store's quick test of simple filters decides as mongomock-ng's filter does."""

from __future__ import annotations

import importlib
import itertools
import math
from typing import Any

import pytest

from broker.devstore._simple import compile_filter

_filtering: Any = importlib.import_module("mongomock_ng.filtering")

VALUES: list[Any] = [
    "a", "b", "", "é", "A", "1", None, 0, 1, 1.0, 2.5, -3, 100, math.nan, True, False,
    ["a"], [1, 2], [], {"a": 1}, {"v": 1},
]  # fmt: skip
BOX = {
    "type": "Polygon",
    "coordinates": [[[134.9, 34.5], [135.1, 34.5], [135.1, 34.7], [134.9, 34.7], [134.9, 34.5]]],
}
POINTS: list[Any] = [
    {"type": "Point", "coordinates": [135.0, 34.6]},
    {"type": "Point", "coordinates": [135.02, 34.6]},
    {"type": "Point", "coordinates": [136.0, 34.6]},
    {"type": "LineString", "coordinates": [[135.0, 34.6], [135.0, 34.61]]},
    {"type": "LineString", "coordinates": [[134.0, 34.6], [136.0, 34.6]]},
    [135.0, 34.6],
    {"type": "Nonsense"},
    "x",
]
DOCS: list[dict[str, Any]] = (
    [{}]
    + [{"f": v} for v in VALUES]
    + [{"f": "a", "g": v} for v in VALUES]
    + [{"d": {"e": v}} for v in VALUES]
    + [{"d": v} for v in VALUES]
    + [{"d": [{"e": 1}]}, {"d": {"e": {"x": 1}}}]
    + [{"f": "a", "p": p} for p in POINTS]
)
FILTERS: list[dict[str, Any]] = [
    {"f": "a"},
    {"f": 1},
    {"f": {"$eq": "b"}},
    {"f": {"$eq": 1.0}},
    {"f": {"$ne": "a"}},
    {"f": {"$ne": 1}},
    {"f": {"$in": ["a", "é"]}},
    {"f": {"$in": ["a", 1, 2.5]}},
    {"f": {"$nin": ["a", ""]}},
    {"f": {"$nin": [0, "b"]}},
    {"f": {"$lt": "b"}},
    {"f": {"$lt": 100}},
    {"f": {"$lte": "a"}},
    {"f": {"$lte": 1}},
    {"f": {"$gt": "a"}},
    {"f": {"$gt": 0}},
    {"f": {"$gte": "b", "$lt": "z"}},
    {"f": {"$gte": -3, "$lt": 2}},
    {"f": "a", "g": {"$ne": "x"}},
    {"d.e": 1},
    {"d.e": {"$lt": 100}},
    {"d.e": {"$ne": "a"}},
    {"d.e": {"$in": ["a", 1]}},
    {"$and": [{"f": "a"}, {"g": {"$gt": 0}}]},
    {"$or": [{"f": "a"}, {"d.e": {"$lt": 2}}]},
    {"$and": [{"f": {"$in": ["a", "b"]}}, {"$or": [{"g": 1}, {"g": "a"}]}]},
    {"p": {"$geoWithin": {"$centerSphere": [[135.0, 34.6], 0.0005]}}},
    {"f": "a", "p": {"$geoIntersects": {"$geometry": BOX}}},
    {"p": {"$geoWithin": {"$geometry": BOX}}},
    # Parts it cannot decide: the rest still decides what it can.
    {"f": "a", "g": {"$exists": True}},
    {"$and": [{"f": "a"}, {"g": {"$regex": "^a"}}]},
    {"$or": [{"f": "a"}, {"g": {"$size": 1}}]},
]
NOTHING_TO_DECIDE: list[Any] = [
    {},
    {"_id": "a"},
    {"f": {"$exists": True}},
    {"f": {"$in": ["a", None]}},
    {"f": {"$in": ["a", True]}},
    {"f": True},
    {"f": None},
    {"f": {}},
    {"f": {"$lt": None}},
    {"$where": "true"},
]


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_decisions_agree_with_mongomock(flt: dict[str, Any]) -> None:
    test = compile_filter(flt)
    assert test is not None
    decided = 0
    for doc in DOCS:
        expected = bool(_filtering.filter_applies(flt, doc))
        outcome = test(doc)
        if outcome is not None:
            decided += 1
            assert outcome == expected, (flt, doc)
    assert decided >= 20  # of 87: it does decide (a third at least, usually most)


@pytest.mark.parametrize("flt", NOTHING_TO_DECIDE, ids=repr)
def test_other_filters_are_left_to_mongomock(flt: Any) -> None:
    assert compile_filter(flt) is None


def test_strings_order_as_code_points() -> None:
    """MongoDB compares strings by their UTF-8 bytes: the order of their code points."""
    words = ["a", "b", "z", "é", "€", "𝄞", "A", ""]
    for x, y in itertools.product(words, words):
        assert (x < y) == (x.encode() < y.encode())
