"""Translate NGSI-LD queries (ngsild.q) into one MongoDB filter over the entity documents.

The store does all the filtering (nothing is re-checked in Python after a fetch), so that
limit, offset and count stay right and only matching entities cross the wire. Only
standard query operators are used (plus ``$expr`` where a member name is not known in
advance), so the filters run the same on MongoDB and on the dev store.

Scope of q (clause 4.9): a Query Term applies to the default instance (``@none``, no
datasetId) of an attribute; selecting other instances is the separate ``datasetId``
parameter (clause 4.5.5). The only exception is ``attr.datasetId``, which asks which
datasetIds an attribute has.

How the clause 4.9 semantics map onto the stored layout (see documents.py):

- the target value is the instance's ``value``: a Relationship's object URI(s), a
  ListRelationship's ``[{"object": uri}]`` (compared by ``object``), a VocabProperty's
  expanded IRI(s), a LanguageProperty's map (any of its strings is the target value, or
  the addressed language's with ``attr[en]``); a GeoProperty's geometry is not a value;
- ``==`` on an array target matches when the array includes the value, MongoDB's own
  array semantics; values of different types never match, and ``5`` equals ``5.0``;
- ``!=``, ``!~=`` and every operator need the target element to exist: an entity
  without the attribute does not match ``a!=x``; ``!=`` is "exists and not ==";
- ordering operators and regular expressions never match a Relationship or a
  ListRelationship (clause 4.9: only equal and unequal apply to them);
- date-times are strings: they are compared as such, except that fractions of a second
  are compared by value, so ``...:00Z``, ``...:00.000Z`` and ``...:00,0Z`` are the same
  instant (observedAt is stored as the client wrote it; createdAt/modifiedAt always
  with milliseconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from ..ngsild.errors import OperationNotSupported
from ..ngsild.q import (
    And,
    AttrPath,
    Comparison,
    Exists,
    Match,
    Op,
    Operand,
    Or,
    QueryNode,
    Range,
    TypeExpr,
    Value,
    ValueList,
)
from .documents import DEFAULT_DATASET, attr_path
from .keys import encode_key

__all__ = ["q_filter", "type_filter"]

Filter = dict[str, Any]
Scalar = str | int | float | bool

_RELATIONSHIPS: Final = ["Relationship", "ListRelationship"]
_LIST_RELATIONSHIP: Final = "ListRelationship"
_LANGUAGE: Final = "LanguageProperty"
_ORDERING: Final = {Op.GT: "$gt", Op.GE: "$gte", Op.LT: "$lt", Op.LE: "$lte"}
# The text before the fraction of a second, and its digits (clause 4.6.3 DateTime, Time).
_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\d{2}:\d{2}:\d{2})(?:[.,](\d+))?Z\Z")
# Greater than any text that starts with the same seconds (timestamps are ASCII).
_AFTER: Final = "\x7f"
_DIGITS: Final = "[0-9]*"
# Matches no document (every document has an _id).
_NOTHING: Final[Filter] = {"_id": {"$in": []}}


def q_filter(query: QueryNode) -> dict[str, Any]:
    """The MongoDB filter selecting the entities that match a q query (clause 4.9).

    Linked-entity paths (``rel{attr}``) need other entities and are not evaluated here:
    they raise OperationNotSupported.
    """
    return _node(query)


def type_filter(expr: TypeExpr) -> dict[str, Any]:
    """The MongoDB filter for a type selection (clause 4.17) over the ``type`` array."""
    singles = [alt[0] for alt in expr.alternatives if len(alt) == 1]
    parts: list[Filter] = []
    if len(singles) == 1:
        parts.append({"type": singles[0]})
    elif singles:
        parts.append({"type": {"$in": singles}})
    parts += [{"type": {"$all": list(alt)}} for alt in expr.alternatives if len(alt) > 1]
    return _any(parts)


# -- combinators --------------------------------------------------------------------------


def _all(parts: list[Filter]) -> Filter:
    flat: list[Filter] = []
    for part in parts:
        flat.extend(part["$and"] if list(part) == ["$and"] else [part])
    return flat[0] if len(flat) == 1 else {"$and": flat}


def _any(parts: list[Filter]) -> Filter:
    flat: list[Filter] = []
    for part in parts:
        if part != _NOTHING:
            flat.extend(part["$or"] if list(part) == ["$or"] else [part])
    if not flat:
        return dict(_NOTHING)
    return flat[0] if len(flat) == 1 else {"$or": flat}


def _not(part: Filter) -> Filter:
    return {"$nor": [part]}


def _node(node: QueryNode) -> Filter:
    if isinstance(node, And):
        return _all([_node(term) for term in node.terms])
    if isinstance(node, Or):
        return _any([_node(term) for term in node.terms])
    if node.path.links:
        raise OperationNotSupported(
            f"q: linked-entity paths such as {node.path.text!r} (clause 4.9, EXAMPLE 13) are "
            "not supported"
        )
    if isinstance(node, Exists):
        return _exists_term(node)
    if isinstance(node, Comparison):
        return _comparison(node)
    return _match(node)


# -- where a path points ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """The document paths of a Query Term's target element.

    field: the compared value; owner: the instance whose kind tells how to read its value
    (only when the target is the attribute's main value); wildcard: field is an object and
    any of its member values is the target value (``[*]``); exists: what must exist for the
    target element to exist.
    """

    field: str
    owner: str | None
    wildcard: bool
    exists: str


def _member_key(name: str) -> str:
    # Keys inside stored JSON values are encoded only when they need it (keys.encode_value).
    return encode_key(name) if any(c in name for c in ".$%") else name


def _instance(path: AttrPath) -> str:
    parts = [attr_path(path.attrs[0]), DEFAULT_DATASET]
    for sub in path.attrs[1:]:
        parts += ["sub", encode_key(sub)]
    return ".".join(parts)


def _target(path: AttrPath) -> _Target:
    if not path.attrs:
        assert path.meta is not None  # an Entity's createdAt or modifiedAt
        return _Target(path.meta, None, False, path.meta)
    instance = _instance(path)
    if path.meta is not None:
        field = f"{instance}.{path.meta}"
        return _Target(field, None, False, field)
    if path.members:
        wildcard = path.members[-1] == "*"
        members = path.members[:-1] if wildcard else path.members
        field = ".".join([f"{instance}.value", *(_member_key(m) for m in members)])
        return _Target(field, None, wildcard, field)
    return _Target(f"{instance}.value", instance, False, instance)


def _exists(target: _Target) -> Filter:
    if target.wildcard:
        return {target.field: {"$type": "object", "$ne": {}}}
    return {target.exists: {"$exists": True}}


# -- terms --------------------------------------------------------------------------------


def _exists_term(node: Exists) -> Filter:
    if node.path.meta == "datasetId" and node.path.attrs:
        found = _has_datasets(attr_path(node.path.attrs[0]))
        return _not(found) if node.negated else found
    target = _target(node.path)
    if not node.negated:
        return _exists(target)
    if target.wildcard:
        return _not(_exists(target))
    return {target.exists: {"$exists": False}}


def _comparison(node: Comparison) -> Filter:
    if node.path.meta == "datasetId" and node.path.attrs:
        return _dataset_comparison(node)
    target = _target(node.path)
    if node.op is Op.NE:
        return _all([_exists(target), _not(_matches(target, Op.EQ, node.operand))])
    return _matches(target, node.op, node.operand)


def _match(node: Match) -> Filter:
    target = _target(node.path)
    if not node.negated:
        return _kind_aware(target, ("regex", node.pattern), ordering=True)
    # !~=: the target value exists, is a string, and is not in the pattern's language.
    if target.wildcard:
        return _all([_exists(target), _not(_wildcard(target.field, ("regex", node.pattern)))])
    plain = {target.field: {"$type": "string", "$not": {"$regex": node.pattern}}}
    if target.owner is None:
        return plain
    kind = f"{target.owner}.type"
    return _any(
        [
            _all([{kind: {"$nin": _RELATIONSHIPS}}, plain]),
            _all([{kind: _LANGUAGE}, _not(_wildcard(target.field, ("regex", node.pattern)))]),
        ]
    )


def _dataset_comparison(node: Comparison) -> Filter:
    base = attr_path(node.path.attrs[0])
    operand = node.operand
    # The parser allows one URI or a list of them here, not a range.
    values = operand.items if isinstance(operand, ValueList) else (operand,)
    named = _any(
        [
            {f"{base}.{encode_key(str(v.value))}": {"$exists": True}}
            for v in values
            if isinstance(v, Value)
        ]
    )
    if node.op is Op.EQ:
        return named
    return _all([_has_datasets(base), _not(named)])


def _has_datasets(base: str) -> Filter:
    """The attribute has an instance with a datasetId (its instances are keyed by it)."""
    instances = {"$objectToArray": _object_or_empty("$" + base)}
    others = {"$filter": {"input": instances, "cond": {"$ne": ["$$this.k", DEFAULT_DATASET]}}}
    return {"$expr": {"$gt": [{"$size": others}, 0]}}


# -- value tests --------------------------------------------------------------------------

# A test on one scalar: ("in", [values]) | ("range", (low, high)) | ("regex", pattern)
# | ("$gt" | "$gte" | "$lt" | "$lte", value).
_Test = tuple[str, Any]


def _test(op: Op, operand: Operand) -> _Test:
    if isinstance(operand, ValueList):
        return ("in", [v.value for v in operand.items])
    if isinstance(operand, Range):
        return ("range", (operand.low.value, operand.high.value))
    if op in (Op.EQ, Op.NE):
        return ("in", [operand.value])
    return (_ORDERING[op], operand.value)


def _matches(target: _Target, op: Op, operand: Operand) -> Filter:
    return _kind_aware(target, _test(op, operand), ordering=op in _ORDERING)


def _strings(test: _Test) -> _Test | None:
    """The part of a test that can match strings (relationship objects, language maps)."""
    kind, arg = test
    if kind == "in":
        texts = [v for v in arg if isinstance(v, str)]
        return ("in", texts) if texts else None
    if kind == "range":
        return test if isinstance(arg[0], str) else None
    if kind == "regex":
        return test
    return test if isinstance(arg, str) else None


def _kind_aware(target: _Target, test: _Test, ordering: bool) -> Filter:
    if target.wildcard:
        return _wildcard(target.field, test)
    plain = _field_test(target.field, test)
    if target.owner is None:
        return plain
    kind = f"{target.owner}.type"
    if ordering:
        plain = _all([{kind: {"$nin": _RELATIONSHIPS}}, plain])
    branches = [plain]
    texts = _strings(test)
    if texts is not None:
        if not ordering and texts[0] == "in":
            objects = _field_test(f"{target.field}.object", texts)
            branches.append(_all([{kind: _LIST_RELATIONSHIP}, objects]))
        branches.append(_all([{kind: _LANGUAGE}, _wildcard(target.field, texts)]))
    return _any(branches)


def _field_test(field: str, test: _Test) -> Filter:
    kind, arg = test
    if kind == "in":
        plain = [v for v in arg if not _is_instant(v)]
        parts = [_instant_test(field, v, "eq") for v in arg if _is_instant(v)]
        if plain:
            parts.insert(0, {field: plain[0] if len(plain) == 1 else {"$in": plain}})
        return _any(parts)
    if kind == "range":
        low, high = arg
        if not (_is_instant(low) or _is_instant(high)):
            return {field: {"$gte": low, "$lte": high}}
        return _all([_field_test(field, ("$gte", low)), _field_test(field, ("$lte", high))])
    if kind == "regex":
        return {field: {"$regex": arg}}
    if not _is_instant(arg):
        return {field: {kind: arg}}
    seconds = _seconds(arg)
    relation = {"$gt": "gt", "$gte": "ge", "$lt": "lt", "$lte": "le"}[kind]
    other_seconds = {"$gt": seconds + _AFTER} if kind in ("$gt", "$gte") else {"$lt": seconds}
    return _any([{field: other_seconds}, _instant_test(field, arg, relation)])


def _instant_test(field: str, value: str, relation: str) -> Filter:
    pattern = _instant_regex(value, relation)
    return dict(_NOTHING) if pattern is None else {field: {"$regex": pattern}}


# -- date-times: fractions of a second compared by value ----------------------------------


def _is_instant(value: Scalar) -> bool:
    return isinstance(value, str) and _INSTANT.match(value) is not None


def _seconds(value: str) -> str:
    match = _INSTANT.match(value)
    assert match is not None
    return match.group(1)


def _instant_regex(value: str, relation: str) -> str | None:
    """A pattern for the stored strings with the same seconds as value whose fraction of
    a second is equal to (eq), greater than (gt), at least (ge), less than (lt) or at
    most (le) value's (None: there are none). Other seconds compare as plain strings."""
    match = _INSTANT.match(value)
    assert match is not None
    seconds, digits = match.group(1), (match.group(2) or "").rstrip("0")
    equal = f"[.,]{digits}0*Z" if digits else "(?:[.,]0*)?Z"
    greater = [f"{digits[:i]}[{int(d) + 1}-9]{_DIGITS}" for i, d in enumerate(digits) if d != "9"]
    greater.append(f"{digits}0*[1-9]{_DIGITS}")
    less = [f"{digits[:i]}[0-{int(d) - 1}]{_DIGITS}" for i, d in enumerate(digits) if d != "0"]
    less += [digits[:i] for i in range(len(digits))]
    tails = {
        "eq": [equal],
        "gt": [f"[.,](?:{'|'.join(greater)})Z"],
        "ge": [equal, f"[.,](?:{'|'.join(greater)})Z"],
        "lt": ["Z", f"[.,](?:{'|'.join(less)})Z"] if less else [],
        "le": [equal, "Z", f"[.,](?:{'|'.join(less)})Z"] if less else [equal],
    }[relation]
    return f"^{seconds}(?:{'|'.join(tails)})$" if tails else None


# -- any member of an object (language maps, [*]) -----------------------------------------


def _object_or_empty(expr: str) -> dict[str, Any]:
    return {"$cond": [{"$eq": [{"$type": expr}, "object"]}, expr, {}]}


def _wildcard(field: str, test: _Test) -> Filter:
    """Some member value of the object at field (or an element of one that is an array)
    passes the test: a LanguageProperty's strings, or ``[*]`` (clause 4.9)."""
    pairs = {"$objectToArray": _object_or_empty("$" + field)}
    values = {
        "$reduce": {
            "input": pairs,
            "initialValue": [],
            "in": {
                "$concatArrays": [
                    "$$value",
                    {"$cond": [{"$isArray": "$$this.v"}, "$$this.v", ["$$this.v"]]},
                ]
            },
        }
    }
    check = {"$map": {"input": values, "as": "v", "in": _expr_test("$$v", test)}}
    return {"$expr": {"$anyElementTrue": [check]}}


def _expr_test(var: str, test: _Test) -> dict[str, Any]:
    """The aggregation-expression form of a test (aggregation compares across types, so
    the type is checked first, as the query operators do implicitly)."""
    kind, arg = test
    if kind == "in":
        return {"$in": [var, {"$literal": list(arg)}]}
    if kind == "range":
        low, high = arg
        return {"$and": [_expr_test(var, ("$gte", low)), _expr_test(var, ("$lte", high))]}
    if kind == "regex":
        return {
            "$cond": [
                _has_type(var, "string"),
                {"$regexMatch": {"input": var, "regex": arg}},
                False,
            ]
        }
    if isinstance(arg, bool):
        same: dict[str, Any] = _has_type(var, "bool")
    elif isinstance(arg, int | float):
        same = {"$isNumber": var}
    else:
        same = _has_type(var, "string")
    return {"$and": [same, {kind: [var, {"$literal": arg}]}]}


def _has_type(var: str, name: str) -> dict[str, Any]:
    return {"$eq": [{"$type": var}, name]}
