"""The simulated city: Nara (奈良市), its bus routes, car parks and air-quality stations.

Static data only. Coordinates are GeoJSON positions, [longitude, latitude], approximate
(good enough for a map, not for navigation). Routes, car parks and stations are modelled on
real places, but the route names, stop lists and every live figure are made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["AIR_STATIONS", "PARKING_SITES", "ROUTES", "AirStation", "ParkingSite", "Route", "Stop"]

Position = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Stop:
    """A point of a route's path; named points are bus stops, unnamed ones shape the path."""

    position: Position
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A bus line. A loop returns to its first point; other lines run out and back."""

    key: str  # used in entity ids: urn:ngsi-ld:GtfsRoute:nara-<key>
    short_name: str  # what the bus displays
    long_name: str
    loop: bool
    points: tuple[Stop, ...]

    @property
    def id(self) -> str:
        return f"urn:ngsi-ld:GtfsRoute:nara-{self.key}"


@dataclass(frozen=True, slots=True)
class ParkingSite:
    """A car park (OffStreetParking) or a stretch of street parking (OnStreetParking)."""

    key: str
    entity_type: str  # OffStreetParking or OnStreetParking
    name: str
    position: Position

    @property
    def id(self) -> str:
        return f"urn:ngsi-ld:{self.entity_type}:{self.key}"

    @property
    def category(self) -> str:
        """The ParkingSpot category of its spots: offStreet or onStreet."""
        return "offStreet" if self.entity_type == "OffStreetParking" else "onStreet"


@dataclass(frozen=True, slots=True)
class AirStation:
    """An air-quality monitoring point and its typical (mean) readings."""

    key: str
    name: str
    position: Position
    no2: float  # µg/m3
    pm10: float  # µg/m3
    pm25: float  # µg/m3
    o3: float  # µg/m3
    temperature: float  # °C


ROUTES: Final = (
    Route(
        key="city-loop",
        short_name="市内循環",
        long_name="City Loop: JR Nara - Kintetsu Nara - Todaiji - Kasuga Taisha - Naramachi",
        loop=True,
        points=(
            Stop((135.8196, 34.6809), "JR奈良駅"),
            Stop((135.8240, 34.6818)),
            Stop((135.8283, 34.6847), "近鉄奈良駅"),
            Stop((135.8335, 34.6853), "県庁前"),
            Stop((135.8400, 34.6862), "東大寺大仏殿・国立博物館"),
            Stop((135.8430, 34.6835)),
            Stop((135.8440, 34.6800), "破石町"),
            Stop((135.8330, 34.6772), "福智院町"),
            Stop((135.8250, 34.6768)),
            Stop((135.8205, 34.6780), "JR奈良駅東口"),
        ),
    ),
    Route(
        key="heijo",
        short_name="平城宮跡",
        long_name="JR Nara - Shin-Omiya - Heijo Palace Site (Suzakumon)",
        loop=False,
        points=(
            Stop((135.8196, 34.6809), "JR奈良駅"),
            Stop((135.8150, 34.6838)),
            Stop((135.8120, 34.6850), "大宮町"),
            Stop((135.8066, 34.6868), "新大宮駅"),
            Stop((135.8000, 34.6880)),
            Stop((135.7955, 34.6915), "朱雀門ひろば前"),
            Stop((135.7930, 34.6950), "平城宮跡遺構展示館"),
        ),
    ),
    Route(
        key="nishinokyo",
        short_name="西ノ京",
        long_name="Kintetsu Nara - JR Nara - City Hall - Toshodaiji - Yakushiji",
        loop=False,
        points=(
            Stop((135.8283, 34.6847), "近鉄奈良駅"),
            Stop((135.8240, 34.6825)),
            Stop((135.8196, 34.6809), "JR奈良駅"),
            Stop((135.8050, 34.6785), "奈良市役所前"),
            Stop((135.7900, 34.6775), "尼ヶ辻"),
            Stop((135.7850, 34.6752), "唐招提寺"),
            Stop((135.7845, 34.6685), "薬師寺"),
        ),
    ),
)

PARKING_SITES: Final = (
    ParkingSite("nara-station-west", "OffStreetParking", "JR奈良駅西口駐車場", (135.8180, 34.6812)),
    ParkingSite("nara-park-noborioji", "OffStreetParking", "登大路駐車場", (135.8345, 34.6848)),
    ParkingSite(
        "nara-sanjo-dori", "OnStreetParking", "三条通りパーキングメーター", (135.8240, 34.6818)
    ),
)

AIR_STATIONS: Final = (
    AirStation("nara-city-hall", "奈良市役所 大気測定点", (135.8050, 34.6785), 23, 21, 12, 58, 11),
    AirStation("nara-park", "奈良公園 大気測定点", (135.8390, 34.6855), 12, 17, 9, 66, 10),
    AirStation("nara-heijo", "平城宮跡 大気測定点", (135.7960, 34.6930), 16, 19, 10, 62, 11),
    AirStation("nara-nishinokyo", "西ノ京 大気測定点", (135.7848, 34.6720), 19, 22, 11, 60, 12),
    AirStation("nara-kintetsu", "近鉄奈良駅前 大気測定点", (135.8283, 34.6850), 31, 26, 14, 52, 12),
)
