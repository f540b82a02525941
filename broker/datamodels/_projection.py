"""Project an entity in any NGSI-LD representation onto the keyValues shape schemas describe.

Smart Data Models schemas describe the simplified (keyValues) form: attribute name -> value.
An entity arrives normalized, concise or keyValues, with or without "@context", or as plain
JSON. Each attribute becomes its main value: a Property its "value" (JSON-LD value objects
{"@type": ..., "@value": x} become x), a Relationship its "object", a GeoProperty its
geometry, a LanguageProperty its "languageMap", a VocabProperty its (short) "vocab", a
JsonProperty its "json", a ListProperty its "valueList", a ListRelationship its objects.
Sub-attributes and metadata (observedAt, unitCode, ...) are not part of the model's value
and are dropped, as are "@context" and the broker's createdAt/modifiedAt/deletedAt.

Telling concise from keyValues: an entity with at least one attribute typed Property,
Relationship, ... is NGSI-LD, and then any object with one main member ("value", "object",
...) is a concise attribute. Otherwise such an object is read as concise only if its other
members are NGSI-LD metadata or attributes, so keyValues objects such as
{"parameter": "p", "value": "v"} stay values.

Multi-instance attributes (several datasetIds) project to their default instance; the other
instances are validated as alternatives (Projection.variants).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from broker.ngsild.model import ATTRIBUTE_KINDS, MAIN_MEMBER, META_MEMBERS

from ._pointers import Path, PathMap

__all__ = ["Piece", "Projection", "project"]

#: Entity members that are not attributes of a data model.
_DROPPED: Final = frozenset({"@context", "createdAt", "modifiedAt", "deletedAt"})
_MAIN_MEMBERS: Final = tuple(dict.fromkeys(MAIN_MEMBER.values()))
_VALUE_OBJECT_KEYS: Final = frozenset({"@value", "@type", "@language", "@direction", "@index"})

Moves = tuple[tuple[Path, Path], ...]
Compact = Callable[[str], str]
Problem = tuple[Path, str]


@dataclass(frozen=True, slots=True)
class Piece:
    """One projected value; moves: (path inside the value, path in the entity as given)."""

    value: Any
    moves: Moves


@dataclass(slots=True)
class Projection:
    """The projected members (each with its instances, the default first) and problems
    found on the way (path in the entity as given, message)."""

    members: dict[str, list[Piece]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {key: pieces[0].value for key, pieces in self.members.items()}

    def variants(self) -> Iterator[tuple[dict[str, Any], PathMap, str | None]]:
        """(document, path map, only): the default document (only=None), then one per extra
        instance of a multi-instance attribute, whose errors count only below `only`."""
        chosen = {key: pieces[0] for key, pieces in self.members.items()}
        yield self._variant(chosen), self._paths(chosen), None
        for key, pieces in self.members.items():
            for piece in pieces[1:]:
                other = {**chosen, key: piece}
                yield self._variant(other), self._paths(other), key

    @staticmethod
    def _variant(chosen: Mapping[str, Piece]) -> dict[str, Any]:
        return {key: piece.value for key, piece in chosen.items()}

    @staticmethod
    def _paths(chosen: Mapping[str, Piece]) -> PathMap:
        return PathMap(
            ((key, *inner), outer) for key, piece in chosen.items() for inner, outer in piece.moves
        )


def _is_typed(value: object) -> bool:
    return isinstance(value, dict) and value.get("type") in ATTRIBUTE_KINDS


def _main_members(value: Mapping[str, Any]) -> list[str]:
    return [member for member in _MAIN_MEMBERS if member in value]


def _is_concise(value: object, ngsild: bool) -> bool:
    if not isinstance(value, dict) or "type" in value:
        return False
    mains = _main_members(value)
    if len(mains) != 1:
        return False
    return ngsild or all(
        key in META_MEMBERS or _is_typed(item) or _is_concise(item, True)
        for key, item in value.items()
        if key != mains[0]
    )


def _is_ngsild(entity: Mapping[str, Any]) -> bool:
    """Whether any attribute (or instance) is typed Property, Relationship, ..."""
    return any(
        _is_typed(value) or (isinstance(value, list) and any(_is_typed(i) for i in value))
        for key, value in entity.items()
        if key not in ("id", "type", "@id", "@type")
    )


def _plain(value: Any, at: Path) -> Piece:
    """value with every JSON-LD value object {"@value": x, ...} replaced by x."""
    moves: list[tuple[Path, Path]] = [((), at)]

    def walk(item: Any, inner: Path, outer: Path) -> Any:
        if isinstance(item, dict):
            if "@value" in item and item.keys() <= _VALUE_OBJECT_KEYS:
                moves.append((inner, (*outer, "@value")))
                return walk(item["@value"], inner, (*outer, "@value"))
            return {k: walk(v, (*inner, k), (*outer, k)) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, (*inner, i), (*outer, i)) for i, v in enumerate(item)]
        return item

    return Piece(walk(value, (), at), tuple(moves))


def _geometry(value: Any, at: Path) -> Piece:
    """A GeoProperty's geometry; gateways sometimes send it as a JSON string."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return Piece(orjson.loads(value), (((), at),))
        except orjson.JSONDecodeError:
            pass
    return _plain(value, at)


def _objects(value: Any, at: Path) -> Piece:
    """A ListRelationship's objectList: [{"object": uri}, ...] or [uri, ...] -> [uri, ...]."""
    if not isinstance(value, list):
        return Piece(value, (((), at),))
    moves: list[tuple[Path, Path]] = [((), at)]
    out: list[Any] = []
    for index, item in enumerate(value):
        if isinstance(item, dict) and "object" in item:
            moves.append(((index,), (*at, index, "object")))
            out.append(item["object"])
        else:
            out.append(item)
    return Piece(out, tuple(moves))


def _vocab(value: Any, at: Path, compact: Compact) -> Piece:
    if isinstance(value, str):
        value = compact(value)
    elif isinstance(value, list):
        value = [compact(v) if isinstance(v, str) else v for v in value]
    return Piece(value, (((), at),))


def _instance(raw: Any, at: Path, ngsild: bool, compact: Compact) -> Piece | Problem:
    """One attribute instance as its value, or a problem (where, what)."""
    if _is_typed(raw):
        kind: str = raw["type"]
        member = MAIN_MEMBER[kind]
        if member not in raw:
            return at, f"a {kind} must have a '{member}' member"
    elif _is_concise(raw, ngsild):
        member = _main_members(raw)[0]
        kind = "Property"
    else:
        return _plain(raw, at)
    main, where = raw[member], (*at, member)
    if member == "value":
        return _geometry(main, where) if kind == "GeoProperty" else _plain(main, where)
    if member == "valueList":
        return _plain(main, where)
    if member == "objectList":
        return _objects(main, where)
    if member == "vocab":
        return _vocab(main, where, compact)
    return Piece(main, (((), where),))  # object, languageMap, json: as they are


def _is_instance(raw: object) -> bool:
    return _is_typed(raw) or _is_concise(raw, True)


def _is_default(raw: Any) -> bool:
    return not isinstance(raw, dict) or raw.get("datasetId", "@none") == "@none"


def _attribute(raw: Any, at: Path, ngsild: bool, compact: Compact) -> list[Piece | Problem]:
    """The instances of one attribute, the default instance first."""
    if ngsild and isinstance(raw, list) and raw and all(_is_instance(i) for i in raw):
        order = sorted(range(len(raw)), key=lambda i: not _is_default(raw[i]))
        return [_instance(raw[i], (*at, i), ngsild, compact) for i in order]
    if not ngsild and isinstance(raw, dict) and raw.keys() == {"dataset"}:
        datasets = raw["dataset"]
        if isinstance(datasets, dict) and datasets:
            names = sorted(datasets, key=lambda d: d != "@none")
            return [_plain(datasets[d], (*at, "dataset", d)) for d in names]
    return [_instance(raw, at, ngsild, compact)]


def _types(entity: Mapping[str, Any], key: str, compact: Compact) -> Piece:
    raw = entity[key]
    at: Path = (key,)
    if isinstance(raw, list) and len(raw) == 1:
        raw, at = raw[0], (key, 0)
    if isinstance(raw, str):
        return Piece(compact(raw), (((), at),))
    if isinstance(raw, list):
        return Piece([compact(t) if isinstance(t, str) else t for t in raw], (((), at),))
    return Piece(raw, (((), at),))


def project(
    entity: Mapping[str, Any], compact: Compact, entity_type: Piece | None = None
) -> Projection:
    """entity as keyValues; compact gives attribute names (and types) their short names.

    entity_type, when given, replaces the entity's type (the validator sets the matched
    model's name there).
    """
    out = Projection()
    ngsild = _is_ngsild(entity)
    origin: dict[str, str] = {}
    for key, raw in entity.items():
        if key in _DROPPED:
            continue
        if key in ("type", "@type"):
            name = "type"
            pieces: list[Piece | Problem] = [entity_type or _types(entity, key, compact)]
        elif key in ("id", "@id"):
            name, pieces = "id", [_plain(raw, (key,))]
        else:
            name = compact(key)
            pieces = _attribute(raw, (key,), ngsild, compact)
        if name in origin:
            out.problems.append(((key,), f"{key!r} is the same attribute as {origin[name]!r}"))
            continue
        origin[name] = key
        good = [p for p in pieces if isinstance(p, Piece)]
        out.problems.extend(p for p in pieces if not isinstance(p, Piece))
        if good:
            out.members[name] = good
    return out
