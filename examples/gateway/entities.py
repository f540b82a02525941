"""NGSI-LD entities (normalized, with @context) shaped by the project's data models.

One builder per entity type; each returns the whole entity, so that every payload the
gateway sends is a complete entity that validates against its model in models/
(`python -m broker validate` passes on it) and that an upsert can create from scratch.

- Vehicle (models/Transportation/Vehicle): a bus. Model attributes: vehicleType, category,
  serviceProvided, serviceStatus, location, speed (km/h, KMH), heading and bearing (degrees,
  DD; heading is -1 while the bus stands still, as the model says), vehicleRunningStatus,
  fleetVehicleId, name. Gateway extensions (the model has additionalProperties: true):
  refRoute (Relationship to the GtfsRoute of the line), routeShortName (the line name the
  bus displays) and occupancy (fraction of the bus's capacity in use, 0..1, C62).
- ParkingSpot (models/Parking/ParkingSpot): status free/occupied with observedAt, location,
  category, refParkingSite (Relationship), name.
- AirQualityObserved (models/Environment/AirQualityObserved): dateObserved, location, no2,
  pm10, pm25, o3 (µg/m3, GQ), temperature (°C, CEL), typeofLocation, name.

The @context of each is the NGSI-LD core context plus the Smart Data Models IRIs of the terms
used, inline, as the examples under models/ have it: the broker needs no network to expand
them. "status" and "location" are core-context terms and are therefore not redefined.
"""

from __future__ import annotations

from typing import Any, Final

from .city import AirStation, ParkingSite, Route

__all__ = [
    "AIR_QUALITY_CONTEXT",
    "CORE_CONTEXT",
    "PARKING_SPOT_CONTEXT",
    "VEHICLE_CONTEXT",
    "air_quality",
    "parking_spot",
    "vehicle",
]

Entity = dict[str, Any]

CORE_CONTEXT: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
_SDM: Final = "https://smartdatamodels.org/"
_TRANSPORT: Final = _SDM + "dataModel.Transportation/"
_PARKING: Final = _SDM + "dataModel.Parking/"
_ENVIRONMENT: Final = _SDM + "dataModel.Environment/"
#: The IRIs of the gateway's own terms (not in any data model).
EXTENSIONS: Final = "https://kaido.city/examples/gateway/"

VEHICLE_CONTEXT: Final = [
    CORE_CONTEXT,
    {
        "Vehicle": _TRANSPORT + "Vehicle",
        "bearing": _TRANSPORT + "bearing",
        "category": _TRANSPORT + "category",
        "dataProvider": _SDM + "dataProvider",
        "fleetVehicleId": _TRANSPORT + "fleetVehicleId",
        "heading": _TRANSPORT + "heading",
        "name": _SDM + "name",
        "occupancy": EXTENSIONS + "occupancy",
        "refRoute": EXTENSIONS + "refRoute",
        "routeShortName": EXTENSIONS + "routeShortName",
        "serviceProvided": _TRANSPORT + "serviceProvided",
        "serviceStatus": _TRANSPORT + "serviceStatus",
        "speed": _TRANSPORT + "speed",
        "vehicleRunningStatus": _TRANSPORT + "vehicleRunningStatus",
        "vehicleType": _TRANSPORT + "vehicleType",
    },
]

PARKING_SPOT_CONTEXT: Final = [
    CORE_CONTEXT,
    {
        "ParkingSpot": _PARKING + "ParkingSpot",
        "category": _PARKING + "category",
        "dataProvider": _SDM + "dataProvider",
        "name": _SDM + "name",
        "refParkingSite": _PARKING + "refParkingSite",
    },
]

AIR_QUALITY_CONTEXT: Final = [
    CORE_CONTEXT,
    {
        "AirQualityObserved": _ENVIRONMENT + "AirQualityObserved",
        "dataProvider": _SDM + "dataProvider",
        "dateObserved": _SDM + "dateObserved",
        "name": _SDM + "name",
        "no2": _ENVIRONMENT + "no2",
        "o3": _ENVIRONMENT + "o3",
        "pm10": _ENVIRONMENT + "pm10",
        "pm25": _ENVIRONMENT + "pm25",
        "temperature": _ENVIRONMENT + "temperature",
        "typeofLocation": _ENVIRONMENT + "typeofLocation",
    },
]

DATA_PROVIDER: Final = "Kaido example gateway (simulated data)"


def _property(value: Any, observed_at: str | None = None, unit: str | None = None) -> Entity:
    attribute: Entity = {"type": "Property", "value": value}
    if unit is not None:
        attribute["unitCode"] = unit
    if observed_at is not None:
        attribute["observedAt"] = observed_at
    return attribute


def _point(position: tuple[float, float], observed_at: str | None = None) -> Entity:
    lon, lat = position
    attribute: Entity = {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
    }
    if observed_at is not None:
        attribute["observedAt"] = observed_at
    return attribute


def _relationship(target: str) -> Entity:
    return {"type": "Relationship", "object": target}


def vehicle(
    *,
    entity_id: str,
    fleet_id: str,
    route: Route,
    position: tuple[float, float],
    speed: float,
    bearing: float,
    moving: bool,
    occupancy: float,
    observed_at: str,
) -> Entity:
    """A bus on a route: speed in km/h, bearing in degrees from true north."""
    bearing = round(bearing, 1) % 360  # 359.96 must not round to 360, out of range
    return {
        "id": entity_id,
        "type": "Vehicle",
        "name": _property(f"Nara city bus {fleet_id}"),
        "vehicleType": _property("bus"),
        "category": _property(["public", "tracked"]),
        "serviceProvided": _property(["urbanTransit"]),
        "fleetVehicleId": _property(fleet_id),
        "serviceStatus": _property("onRoute", observed_at),
        "location": _point(position, observed_at),
        "speed": _property(round(speed, 1) if moving else 0, observed_at, "KMH"),
        # The model: heading is -1 while the vehicle stands still; bearing keeps the GPS angle.
        "heading": _property(bearing if moving else -1, observed_at, "DD"),
        "bearing": _property(bearing, observed_at, "DD"),
        "vehicleRunningStatus": _property("running" if moving else "stopped", observed_at),
        "refRoute": _relationship(route.id),
        "routeShortName": _property(route.short_name),
        "occupancy": _property(round(occupancy, 2), observed_at, "C62"),
        "dataProvider": _property(DATA_PROVIDER),
        "@context": VEHICLE_CONTEXT,
    }


def parking_spot(
    *,
    entity_id: str,
    name: str,
    site: ParkingSite,
    position: tuple[float, float],
    occupied: bool,
    observed_at: str,
) -> Entity:
    """A parking spot of a site; observed_at is when its sensor saw the status change."""
    return {
        "id": entity_id,
        "type": "ParkingSpot",
        "name": _property(name),
        "category": _property([site.category]),
        "refParkingSite": _relationship(site.id),
        "status": _property("occupied" if occupied else "free", observed_at),
        "location": _point(position),
        "dataProvider": _property(DATA_PROVIDER),
        "@context": PARKING_SPOT_CONTEXT,
    }


def air_quality(
    *,
    entity_id: str,
    station: AirStation,
    position: tuple[float, float],
    readings: dict[str, float],
    observed_at: str,
) -> Entity:
    """The latest observation of a station; readings: no2, pm10, pm25, o3, temperature."""
    entity: Entity = {
        "id": entity_id,
        "type": "AirQualityObserved",
        "name": _property(station.name),
        "dateObserved": _property(observed_at),
        "location": _point(position),
        "typeofLocation": _property("outdoor"),
    }
    for pollutant in ("no2", "pm10", "pm25", "o3"):
        entity[pollutant] = _property(round(readings[pollutant], 1), observed_at, "GQ")
    entity["temperature"] = _property(round(readings["temperature"], 1), observed_at, "CEL")
    entity["dataProvider"] = _property(DATA_PROVIDER)
    entity["@context"] = AIR_QUALITY_CONTEXT
    return entity
