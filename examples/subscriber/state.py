"""What the subscriber knows of the city: the latest keyValues of each Vehicle and
ParkingSpot, and the views of them that the page draws.

The broker sends entities in keyValues format (the subscription asks for it), compacted
with the subscriber's @context, so types and attribute names are short terms (``Vehicle``,
``routeShortName``). A change-based notification carries the whole entity (limited to the
subscription's ``attributes``); attributes deleted since are ``"urn:ngsi-ld:null"`` and a
deleted entity has ``deletedAt``. Notifications may come twice (the broker delivers at least
once), so the ids of recent ones are kept to drop repeats; within one entity they come in
order, so applying them one after the other gives the entity's latest state.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

__all__ = [
    "NULL",
    "Changes",
    "CityState",
    "EntityView",
    "Kind",
    "entity_kind",
    "entity_view",
]

#: NGSI-LD Null: an attribute deleted since the entity was last notified.
NULL: Final = "urn:ngsi-ld:null"
#: How many notification ids are remembered to drop repeated deliveries.
SEEN_IDS: Final = 4096

Kind = Literal["vehicle", "spot"]
_KINDS: Final[dict[str, Kind]] = {"Vehicle": "vehicle", "ParkingSpot": "spot"}

Entity = dict[str, Any]


class EntityView(TypedDict):
    """What the page needs to draw one entity (missing attributes are None)."""

    id: str
    kind: Kind
    name: str | None
    lon: float | None
    lat: float | None
    #: spot: free, occupied, closed, unknown; vehicle: running, stopped (vehicleRunningStatus)
    status: str | None
    #: vehicle: the line it runs (routeShortName); spot: its parking site (refParkingSite)
    group: str | None
    #: vehicle: fleetVehicleId; spot: its name (e.g. A-01)
    label: str | None
    speed: float | None
    occupancy: float | None
    bearing: float | None


def _short(type_name: str) -> str:
    """The last segment of a type IRI; a short term stays as it is."""
    for sep in ("#", "/", ":"):
        type_name = type_name.rsplit(sep, 1)[-1]
    return type_name


def entity_kind(entity: Entity) -> Kind | None:
    """vehicle or spot, from the entity's type (short term or IRI); None for other types."""
    types = entity.get("type")
    for t in types if isinstance(types, list) else [types]:
        if isinstance(t, str) and _short(t) in _KINDS:
            return _KINDS[_short(t)]
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]  # e.g. a multi-valued relationship: its first object
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _point(value: Any) -> tuple[float, float] | None:
    """(lon, lat) of a GeoJSON Point; None for anything else."""
    if not isinstance(value, dict) or value.get("type") != "Point":
        return None
    coordinates = value.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    lon, lat = _number(coordinates[0]), _number(coordinates[1])
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def entity_view(entity: Entity) -> EntityView | None:
    """The view of a keyValues Vehicle or ParkingSpot; None for other entities."""
    kind = entity_kind(entity)
    entity_id = entity.get("id")
    if kind is None or not isinstance(entity_id, str):
        return None
    point = _point(entity.get("location"))
    vehicle = kind == "vehicle"
    bearing = _number(entity.get("bearing"))
    if bearing is None:
        heading = _number(entity.get("heading"))
        bearing = heading if heading is not None and heading >= 0 else None
    return EntityView(
        id=entity_id,
        kind=kind,
        name=_text(entity.get("name")),
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        status=_text(entity.get("vehicleRunningStatus" if vehicle else "status")),
        group=_text(entity.get("routeShortName" if vehicle else "refParkingSite")),
        label=_text(entity.get("fleetVehicleId" if vehicle else "name")),
        speed=_number(entity.get("speed")) if vehicle else None,
        occupancy=_number(entity.get("occupancy")) if vehicle else None,
        bearing=bearing if vehicle else None,
    )


@dataclass(slots=True)
class Changes:
    """What a notification changed: the new views, and the ids of entities gone."""

    updated: list[EntityView] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.updated or self.removed)

    def json(self) -> dict[str, Any]:
        return {"entities": self.updated, "removed": self.removed}


@dataclass(slots=True)
class CityState:
    """The latest keyValues of every Vehicle and ParkingSpot the subscriber was told of."""

    entities: dict[str, Entity] = field(default_factory=dict)
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def replace(self, entities: list[Entity]) -> None:
        """Start again from a query's result (the entities of other types are left out)."""
        self.entities = {
            e["id"]: e for e in entities if isinstance(e.get("id"), str) and entity_kind(e)
        }

    def seen(self, notification_id: object) -> bool:
        """True if this notification was applied already (then it is a repeat)."""
        if not isinstance(notification_id, str):
            return False
        if notification_id in self._seen:
            return True
        self._seen[notification_id] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        return False

    def apply(self, data: list[Entity]) -> Changes:
        """Apply the entities of a notification, in order; what changed for the page."""
        changes = Changes()
        for item in data:
            entity_id = item.get("id")
            if not isinstance(entity_id, str) or entity_kind(item) is None:
                continue
            if "deletedAt" in item:
                if self.entities.pop(entity_id, None) is not None:
                    changes.removed.append(entity_id)
                continue
            merged = {**self.entities.get(entity_id, {}), **item}
            entity = {k: v for k, v in merged.items() if v != NULL}
            self.entities[entity_id] = entity
            view = entity_view(entity)
            if view is not None:
                changes.updated = [v for v in changes.updated if v["id"] != entity_id]
                changes.updated.append(view)
                if entity_id in changes.removed:
                    changes.removed.remove(entity_id)
        return changes

    def views(self) -> list[EntityView]:
        """Every entity as the page draws it, by id."""
        views = (entity_view(self.entities[k]) for k in sorted(self.entities))
        return [v for v in views if v is not None]

    def counts(self) -> dict[str, int]:
        """How many vehicles (and running), parking spots (and free, occupied)."""
        views = self.views()
        vehicles = [v for v in views if v["kind"] == "vehicle"]
        spots = [v for v in views if v["kind"] == "spot"]
        return {
            "vehicles": len(vehicles),
            "running": sum(v["status"] == "running" for v in vehicles),
            "spots": len(spots),
            "free": sum(v["status"] == "free" for v in spots),
            "occupied": sum(v["status"] == "occupied" for v in spots),
        }
