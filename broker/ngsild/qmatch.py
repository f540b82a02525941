"""Evaluate a parsed q (clause 4.9, see q.py) on one entity in memory.

Subscriptions test q on every matching change (clause 5.8.6: "the entity matches the q"),
so this must not cost a round trip to the store. The semantics follow the store's query
evaluation: a term holds if any instance (and, for arrays, any element) satisfies it;
``!=`` holds when no value equals; numbers compare with numbers, strings with strings,
date-times as instants; values of other JSON types never compare.
Linked-entity paths are refused when a subscription is created, so they never get here.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from .model import Entity, Instance
from .q import (
    And,
    AttrPath,
    Comparison,
    Exists,
    Match,
    Op,
    Or,
    QueryNode,
    Range,
    Value,
    ValueKind,
    ValueList,
)

__all__ = ["q_matches"]

_MISSING = object()


def _instances(entity: Entity, path: AttrPath) -> list[Instance]:
    instances: list[Instance] = list(entity["attrs"].get(path.attrs[0], ()))
    for name in path.attrs[1:]:
        instances = [i["sub"][name] for i in instances if name in (i.get("sub") or {})]
    return instances


def _main_values(inst: Instance) -> list[Any]:
    value = inst.get("value")
    kind = inst.get("type")
    if kind == "ListRelationship" and isinstance(value, list):
        return [v.get("object") if isinstance(v, dict) else v for v in value]
    if kind == "LanguageProperty" and isinstance(value, dict):
        return list(value.values())
    return [value]


def _walk(value: Any, members: tuple[str, ...]) -> list[Any]:
    values = [value]
    for member in members:
        nxt: list[Any] = []
        for v in values:
            if not isinstance(v, dict):
                continue
            if member == "*":
                nxt.extend(v.values())
            elif member in v:
                nxt.append(v[member])
        values = nxt
    return values


def _targets(entity: Entity, path: AttrPath) -> list[Any]:
    """The values a path designates in the entity (empty if it designates nothing)."""
    if not path.attrs:
        value = entity.get(path.meta or "", _MISSING)
        return [] if value is _MISSING else [value]
    out: list[Any] = []
    for inst in _instances(entity, path):
        if path.meta is not None:
            if path.meta == "datasetId":
                out.append(inst.get("datasetId", "@none"))
            elif path.meta in inst:
                out.append(inst[path.meta])
            continue
        if path.members:
            out.extend(_walk(inst.get("value"), path.members))
        else:
            out.extend(_main_values(inst))
    return [v for v in out if v is not None]


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


@lru_cache(maxsize=4096)
def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _key(value: Any, kind: ValueKind | None = None) -> tuple[int, Any] | None:
    """A comparable key: numbers, date-times and strings each compare among themselves."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        if kind in (ValueKind.DATETIME, None) and len(value) >= 20 and value[4:5] == "-":
            instant = _instant(value)
            if instant is not None and instant.tzinfo is not None:
                return (2, instant)
        return (3, value)
    return None


def _compare(actual: Any, op: Op, literal: Value) -> bool:
    a = _key(actual)
    b = _key(literal.value, literal.kind)
    if a is None or b is None:
        return False
    if a[0] != b[0]:
        if a[0] == 2 and b[0] == 3:  # a date-time compared with a plain string
            a = (3, actual)
        elif a[0] == 3 and b[0] == 2:
            b = (3, literal.value)
        else:
            return False
    if op is Op.EQ:
        return bool(a[1] == b[1])
    if op is Op.GT:
        return bool(a[1] > b[1])
    if op is Op.GE:
        return bool(a[1] >= b[1])
    if op is Op.LT:
        return bool(a[1] < b[1])
    if op is Op.LE:
        return bool(a[1] <= b[1])
    return bool(a[1] != b[1])


def _equals(actual: Any, operand: Value | Range | ValueList) -> bool:
    if isinstance(operand, Range):
        return _compare(actual, Op.GE, operand.low) and _compare(actual, Op.LE, operand.high)
    if isinstance(operand, ValueList):
        return any(_compare(actual, Op.EQ, v) for v in operand.items)
    return _compare(actual, Op.EQ, operand)


def _comparison(entity: Entity, node: Comparison) -> bool:
    values = _flat(_targets(entity, node.path))
    if node.op is Op.EQ:
        return any(_equals(v, node.operand) for v in values)
    if node.op is Op.NE:
        return bool(values) and not any(_equals(v, node.operand) for v in values)
    if not isinstance(node.operand, Value):
        return False
    return any(_compare(v, node.op, node.operand) for v in values)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def q_matches(node: QueryNode, entity: Entity) -> bool:
    """Whether the entity satisfies the query."""
    if isinstance(node, And):
        return all(q_matches(term, entity) for term in node.terms)
    if isinstance(node, Or):
        return any(q_matches(term, entity) for term in node.terms)
    if isinstance(node, Exists):
        found = bool(_targets(entity, node.path))
        return not found if node.negated else found
    if isinstance(node, Match):
        regex = _regex(node.pattern)
        hit = any(
            isinstance(v, str) and regex.search(v) is not None
            for v in _flat(_targets(entity, node.path))
        )
        return not hit if node.negated else hit
    return _comparison(entity, node)
