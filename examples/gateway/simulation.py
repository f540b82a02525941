"""The simulated sensors: buses moving along their routes, parking spots, air-quality stations.

City.snapshot(now) gives every entity; City.step(dt, now) moves the world on by dt seconds
and gives the entities whose sensors report: every bus (a GPS tracker reports on a timer),
the parking spots whose status changed (spot sensors report on change) and every
air-quality station (a fresh reading each cycle). Randomness comes from one seeded
random.Random, so a run is reproducible with --seed.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from typing import Final

from .city import AIR_STATIONS, PARKING_SITES, ROUTES, AirStation, ParkingSite, Route
from .entities import Entity, air_quality, parking_spot, vehicle

__all__ = ["City", "Path"]

Position = tuple[float, float]

#: Metres per degree around Nara (latitude 34.68), for a local flat-earth approximation.
_M_PER_DEG_LAT: Final = 110_950.0
_M_PER_DEG_LON: Final = 111_320.0 * math.cos(math.radians(34.68))


def _distance(a: Position, b: Position) -> float:
    return math.hypot((b[0] - a[0]) * _M_PER_DEG_LON, (b[1] - a[1]) * _M_PER_DEG_LAT)


def _bearing(a: Position, b: Position) -> float:
    """Degrees clockwise from true north, 0 <= bearing < 360."""
    east = (b[0] - a[0]) * _M_PER_DEG_LON
    north = (b[1] - a[1]) * _M_PER_DEG_LAT
    return math.degrees(math.atan2(east, north)) % 360


class Path:
    """A route as a closed path: a loop as drawn, another line out and back again."""

    def __init__(self, route: Route) -> None:
        points = list(route.points)
        points += [points[0]] if route.loop else points[-2::-1]
        self.positions = [p.position for p in points]
        self.offsets = [0.0]
        for a, b in zip(self.positions, self.positions[1:], strict=False):
            self.offsets.append(self.offsets[-1] + _distance(a, b))
        self.length = self.offsets[-1]
        # Stops by their distance along the path; the closing point is the first one again.
        self.stops = sorted(
            {self.offsets[i] % self.length for i, p in enumerate(points) if p.name is not None}
        )

    def at(self, s: float) -> tuple[Position, float]:
        """The position at distance s along the path, and the bearing of travel there."""
        s %= self.length
        i = min(bisect.bisect_right(self.offsets, s) - 1, len(self.positions) - 2)
        a, b = self.positions[i], self.positions[i + 1]
        span = self.offsets[i + 1] - self.offsets[i]
        f = (s - self.offsets[i]) / span if span else 0.0
        return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), _bearing(a, b)

    def next_stop(self, s: float) -> tuple[float, float]:
        """(metres from s to the next stop ahead, that stop's distance along the path); for
        a bus standing at a stop, the stop after it."""
        return min((((stop - s) % self.length) or self.length, stop) for stop in self.stops)


@dataclass(slots=True)
class Bus:
    entity_id: str
    fleet_id: str
    route: Route
    path: Path
    s: float  # metres along the path
    speed: float  # km/h while moving
    occupancy: float  # fraction of capacity
    dwell: float = 0.0  # seconds left standing at a stop


@dataclass(slots=True)
class Spot:
    entity_id: str
    name: str
    site: ParkingSite
    position: Position
    occupied: bool
    changed_at: str = ""


@dataclass(slots=True)
class Station:
    entity_id: str
    station: AirStation
    position: Position
    readings: dict[str, float] = field(default_factory=dict)


class City:
    """The state of every simulated sensor of the gateway.

    spot_change_probability: chance that a parking spot changes status in one step.
    """

    #: Buses cruise around this speed (km/h) between stops and stand 15-40 s at each stop.
    CRUISE: Final = 24.0

    def __init__(
        self,
        *,
        vehicles: int,
        spots: int,
        stations: int,
        seed: int | None = None,
        spot_change_probability: float = 0.05,
    ) -> None:
        self.rng = random.Random(seed)
        self.spot_change_probability = spot_change_probability
        paths = {route.key: Path(route) for route in ROUTES}
        self.buses: list[Bus] = []
        per_route = math.ceil(vehicles / len(ROUTES))  # buses are spread evenly on a route
        for i in range(vehicles):
            route = ROUTES[i % len(ROUTES)]
            path = paths[route.key]
            rank = i // len(ROUTES)  # the bus's number on its route, from 0
            self.buses.append(
                Bus(
                    entity_id=f"urn:ngsi-ld:Vehicle:nara-bus-{i + 1:03d}",
                    fleet_id=str(2101 + i),
                    route=route,
                    path=path,
                    s=((rank / per_route) * path.length + self.rng.uniform(0, 50)) % path.length,
                    speed=self.rng.uniform(18, 30),
                    occupancy=self.rng.uniform(0.1, 0.6),
                )
            )
        self.spots: list[Spot] = []
        for i in range(spots):
            site = PARKING_SITES[i % len(PARKING_SITES)]
            k = i // len(PARKING_SITES)  # the spot's number in its site, from 0
            row, col = divmod(k, 10)
            lon, lat = site.position
            self.spots.append(
                Spot(
                    entity_id=f"urn:ngsi-ld:ParkingSpot:{site.key}-{k + 1:03d}",
                    name=f"{chr(ord('A') + row % 26)}-{col + 1:02d}",
                    site=site,
                    position=(lon + col * 0.00003, lat + row * 0.00006),
                    occupied=self.rng.random() < 0.6,
                )
            )
        self.stations: list[Station] = []
        for i in range(stations):
            cycle, j = divmod(i, len(AIR_STATIONS))
            station = AIR_STATIONS[j]
            suffix = f"-{cycle + 1}" if cycle else ""
            lon, lat = station.position
            self.stations.append(
                Station(
                    entity_id=f"urn:ngsi-ld:AirQualityObserved:{station.key}{suffix}",
                    station=station,
                    position=(lon + cycle * 0.002, lat + cycle * 0.002),
                    readings=self._mean(station),
                )
            )

    @staticmethod
    def _mean(station: AirStation) -> dict[str, float]:
        return {
            "no2": station.no2,
            "pm10": station.pm10,
            "pm25": station.pm25,
            "o3": station.o3,
            "temperature": station.temperature,
        }

    # What the sensors report

    def _vehicle(self, bus: Bus, now: str) -> Entity:
        position, bearing = bus.path.at(bus.s)
        return vehicle(
            entity_id=bus.entity_id,
            fleet_id=bus.fleet_id,
            route=bus.route,
            position=position,
            speed=bus.speed,
            bearing=bearing,
            moving=bus.dwell <= 0,
            occupancy=bus.occupancy,
            observed_at=now,
        )

    def _spot(self, spot: Spot, now: str) -> Entity:
        return parking_spot(
            entity_id=spot.entity_id,
            name=spot.name,
            site=spot.site,
            position=spot.position,
            occupied=spot.occupied,
            observed_at=spot.changed_at or now,
        )

    def _station(self, station: Station, now: str) -> Entity:
        return air_quality(
            entity_id=station.entity_id,
            station=station.station,
            position=station.position,
            readings=station.readings,
            observed_at=now,
        )

    def snapshot(self, now: str) -> list[Entity]:
        """Every entity as it is now (what a gateway sends when it starts)."""
        for spot in self.spots:
            spot.changed_at = spot.changed_at or now
        return [
            *(self._vehicle(bus, now) for bus in self.buses),
            *(self._spot(spot, now) for spot in self.spots),
            *(self._station(station, now) for station in self.stations),
        ]

    def step(self, dt: float, now: str) -> list[Entity]:
        """Move on by dt seconds; the entities whose sensors report at now."""
        out = []
        for bus in self.buses:
            self._drive(bus, dt)
            out.append(self._vehicle(bus, now))
        for spot in self.spots:
            if self.rng.random() < self.spot_change_probability:
                spot.occupied = not spot.occupied
                spot.changed_at = now
                out.append(self._spot(spot, now))
        for station in self.stations:
            self._measure(station)
            out.append(self._station(station, now))
        return out

    # Dynamics

    def _drive(self, bus: Bus, dt: float) -> None:
        if bus.dwell > 0:
            bus.dwell -= dt
            if bus.dwell > 0:
                return
            bus.dwell = 0.0
            bus.speed = self.rng.uniform(12, 20)  # pulling away from the stop
            return
        # Speed drifts towards the cruising speed, with traffic noise.
        bus.speed += min(dt, 10.0) * 0.1 * (self.CRUISE - bus.speed)
        bus.speed += self.rng.gauss(0, 1.5 * math.sqrt(dt))
        bus.speed = min(max(bus.speed, 8.0), 45.0)
        travelled = bus.speed / 3.6 * dt
        ahead, stop = bus.path.next_stop(bus.s)
        if travelled < ahead:
            bus.s = (bus.s + travelled) % bus.path.length
            return
        # Arrives at the stop: stands there; passengers get on and off.
        bus.s = stop
        bus.dwell = self.rng.uniform(15, 40)
        bus.occupancy = min(max(bus.occupancy + self.rng.gauss(0, 0.12), 0.02), 1.0)

    def _measure(self, station: Station) -> None:
        """A new reading: each value reverts towards the station's mean, with noise."""
        mean = self._mean(station.station)
        for name, value in station.readings.items():
            noise = self.rng.gauss(0, 0.08 * mean[name])
            new = mean[name] + 0.85 * (value - mean[name]) + noise
            station.readings[name] = new if name == "temperature" else max(new, 0.0)
