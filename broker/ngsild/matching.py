"""Which subscriptions a change concerns, and why (clauses 5.8.6 and 5.2.12).

Subscriptions are compiled once (q parsed, idPatterns compiled, @context resolved) and
kept in an index by entity type and, for those without entities, by watched attribute.
A write only looks at the subscriptions indexed under its entity's types and changed
attributes, never at all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .changes import EntityChange
from .geomatch import geo_matches
from .geoquery import GeoQuery, parse_geoquery
from .model import Entity
from .q import QueryNode, parse_q
from .qmatch import q_matches
from .render import TermCompactor
from .scopes import scope_query_matches
from .subscription import subscription_status

__all__ = [
    "AttributeDiff",
    "Compiled",
    "Key",
    "SubscriptionIndex",
    "attribute_diff",
    "compile_subscription",
    "match_change",
    "matches_entity",
]

Key = tuple[str | None, str]


class _Expander:
    """q and geoQ of a stored subscription are parsed with its @context."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def expand(self, term: str) -> str:
        result: str = self.ctx.expand(term)
        return result


@dataclass(slots=True)
class Compiled:
    """A subscription ready for matching and rendering."""

    tenant: str | None
    sub: dict[str, Any]
    rev: int
    #: Compacts names in notifications (jsonldContext, else the subscription's @context).
    ctx: TermCompactor
    #: What the notification's @context is (a URL, a list, an object; None: core).
    context: object
    q: QueryNode | None = None
    geo: GeoQuery | None = None
    selectors: list[tuple[str, str | None, re.Pattern[str] | None]] = field(default_factory=list)
    watched: frozenset[str] | None = None
    triggers: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        sub_id: str = self.sub["id"]
        return sub_id

    @property
    def key(self) -> Key:
        return (self.tenant, self.id)

    @property
    def periodic(self) -> bool:
        return "timeInterval" in self.sub


def compile_subscription(
    tenant: str | None,
    sub: dict[str, Any],
    rev: int,
    query_ctx: Any,
    render_ctx: TermCompactor,
    context: object,
) -> Compiled:
    """query_ctx expands q (the @context the subscription was written with)."""
    compiled = Compiled(tenant, sub, rev, render_ctx, context)
    if "q" in sub:
        compiled.q = parse_q(unquote(sub["q"]), _Expander(query_ctx))
    if "geoQ" in sub:
        geo = sub["geoQ"]
        compiled.geo = parse_geoquery(
            geo["georel"], geo["geometry"], geo["coordinates"], geo["geoproperty"], str
        )
    for selector in sub.get("entities", ()):
        pattern = selector.get("idPattern")
        compiled.selectors.append(
            (selector["type"], selector.get("id"), re.compile(pattern) if pattern else None)
        )
    if "watchedAttributes" in sub:
        compiled.watched = frozenset(sub["watchedAttributes"])
    compiled.triggers = frozenset(sub["notificationTrigger"])
    return compiled


@dataclass(frozen=True, slots=True)
class AttributeDiff:
    created: frozenset[str]
    updated: frozenset[str]
    deleted: frozenset[str]

    @property
    def changed(self) -> frozenset[str]:
        return self.created | self.updated | self.deleted


def attribute_diff(old: Entity | None, new: Entity | None) -> AttributeDiff:
    """Attributes created, written (an instance differs, modifiedAt included) or deleted."""
    before = old["attrs"] if old is not None else {}
    after = new["attrs"] if new is not None else {}
    return AttributeDiff(
        created=frozenset(k for k in after if k not in before),
        updated=frozenset(k for k, v in after.items() if k in before and before[k] != v),
        deleted=frozenset(k for k in before if k not in after),
    )


def _selected(compiled: Compiled, entity: Entity) -> bool:
    if not compiled.selectors:
        return True
    types = entity["type"]
    entity_id = entity["id"]
    for type_iri, wanted_id, pattern in compiled.selectors:
        if type_iri not in types:
            continue
        if wanted_id is not None:
            if wanted_id == entity_id:
                return True
            continue
        if pattern is None or pattern.search(entity_id):
            return True
    return False


def matches_entity(compiled: Compiled, entity: Entity) -> bool:
    """Selectors, q, geoQ and scopeQ (clauses 4.9, 4.10, 4.19) on one entity state."""
    if not _selected(compiled, entity):
        return False
    if compiled.q is not None and not q_matches(compiled.q, entity):
        return False
    if compiled.geo is not None and not geo_matches(compiled.geo, entity):
        return False
    scope_q = compiled.sub.get("scopeQ")
    return scope_q is None or scope_query_matches(scope_q, entity.get("scope"))


def _reason(compiled: Compiled, change: EntityChange, diff: AttributeDiff) -> str | None:
    triggers = compiled.triggers
    watched = compiled.watched

    def hit(names: frozenset[str]) -> bool:
        return bool(names if watched is None else names & watched)

    if change.old is None:
        if "entityCreated" in triggers:
            return "entityCreated"
        return "attributeCreated" if "attributeCreated" in triggers and hit(diff.created) else None
    if change.new is None:
        if "entityDeleted" in triggers:
            return "entityDeleted"
        return "attributeDeleted" if "attributeDeleted" in triggers and hit(diff.deleted) else None
    for trigger, names in (
        ("attributeCreated", diff.created),
        ("attributeUpdated", diff.updated),
        ("attributeDeleted", diff.deleted),
    ):
        if trigger in triggers and hit(names):
            return trigger
    if "entityUpdated" in triggers:
        changed = diff.changed or (
            frozenset({"type"}) if change.old["type"] != change.new["type"] else frozenset()
        )
        if watched is None and (changed or change.old.get("scope") != change.new.get("scope")):
            return "entityUpdated"
        if watched is not None and hit(changed):
            return "entityUpdated"
    return None


def match_change(
    compiled: Compiled, change: EntityChange, diff: AttributeDiff, now: str
) -> str | None:
    """The trigger reason if this change must be notified to this subscription, else None.

    q, geoQ and scopeQ are evaluated on the new state (the old one for a deletion).
    """
    if compiled.periodic or subscription_status(compiled.sub, now) != "active":
        return None
    state = change.new if change.new is not None else change.old
    if state is None:
        return None
    reason = _reason(compiled, change, diff)
    if reason is None or not matches_entity(compiled, state):
        return None
    return reason


class SubscriptionIndex:
    """The compiled subscriptions of all tenants, by entity id, type or watched attribute.

    A subscription whose selectors all name an entity id is indexed by those ids only, so
    that many per-entity subscriptions of one type are not all checked on every update.
    """

    def __init__(self) -> None:
        self._all: dict[Key, Compiled] = {}
        self._by_id: dict[tuple[str | None, str], dict[str, Compiled]] = {}
        self._by_type: dict[tuple[str | None, str], dict[str, Compiled]] = {}
        self._by_attr: dict[tuple[str | None, str], dict[str, Compiled]] = {}
        self._per_tenant: dict[str | None, int] = {}

    def __len__(self) -> int:
        return len(self._all)

    def has_tenant(self, tenant: str | None) -> bool:
        """Whether any subscription of tenant is indexed."""
        return self._per_tenant.get(tenant, 0) > 0

    def get(self, tenant: str | None, sub_id: str) -> Compiled | None:
        return self._all.get((tenant, sub_id))

    def all(self) -> list[Compiled]:
        return list(self._all.values())

    def _buckets(self, compiled: Compiled) -> Iterable[dict[str, Compiled]]:
        if compiled.selectors and all(s[1] is not None for s in compiled.selectors):
            for entity_id in {s[1] for s in compiled.selectors if s[1] is not None}:
                yield self._by_id.setdefault((compiled.tenant, entity_id), {})
        elif compiled.selectors:
            for type_iri in {s[0] for s in compiled.selectors}:
                yield self._by_type.setdefault((compiled.tenant, type_iri), {})
        else:
            for attr in compiled.watched or ():
                yield self._by_attr.setdefault((compiled.tenant, attr), {})

    def put(self, compiled: Compiled) -> None:
        self.remove(compiled.tenant, compiled.id)
        self._all[compiled.key] = compiled
        self._per_tenant[compiled.tenant] = self._per_tenant.get(compiled.tenant, 0) + 1
        for bucket in self._buckets(compiled):
            bucket[compiled.id] = compiled

    def remove(self, tenant: str | None, sub_id: str) -> None:
        old = self._all.pop((tenant, sub_id), None)
        if old is not None:
            self._per_tenant[tenant] -= 1
            for bucket in self._buckets(old):
                bucket.pop(sub_id, None)

    def candidates(self, change: EntityChange, diff: AttributeDiff) -> list[Compiled]:
        """Subscriptions that may concern the change: by its types, or its attributes."""
        found: dict[str, Compiled] = {}
        types: set[str] = set()
        for state in (change.old, change.new):
            if state is not None:
                types.update(state["type"])
        for type_iri in types:
            found.update(self._by_type.get((change.tenant, type_iri), {}))
        found.update(self._by_id.get((change.tenant, change.entity_id), {}))
        for attr in diff.changed:
            found.update(self._by_attr.get((change.tenant, attr), {}))
        return list(found.values())
