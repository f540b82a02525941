"""The few NGSI-LD requests the subscriber makes: create, list and delete its subscription,
and read the current state once (Query Entities, page after page).

Errors of the broker (ProblemDetails, clause 5.5.2) become a BrokerError that names the
problem, e.g. ``503 LdContextNotAvailable: Cannot retrieve @context ...``.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

import aiohttp
import orjson

from examples.gateway.entities import CORE_CONTEXT, PARKING_SPOT_CONTEXT, VEHICLE_CONTEXT

__all__ = [
    "ATTRIBUTES",
    "CONTEXT",
    "ENTITY_TYPES",
    "PAGE_SIZE",
    "BrokerClient",
    "BrokerError",
    "link_header",
    "subscription_body",
]

ENTITIES: Final = "/ngsi-ld/v1/entities"
SUBSCRIPTIONS: Final = "/ngsi-ld/v1/subscriptions"
JSON: Final = "application/json"
JSONLD: Final = "application/ld+json"
LINK_REL: Final = "http://www.w3.org/ns/json-ld#context"
#: The entities the map shows (terms of CONTEXT).
ENTITY_TYPES: Final = ("Vehicle", "ParkingSpot")
#: Entities per page of the initial query (Kaido's MAX_LIMIT and Orion-LD's are 1000).
PAGE_SIZE: Final = 500
#: The attributes the map uses: notifications carry only these.
ATTRIBUTES: Final = (
    "location",
    "name",
    "status",
    "refParkingSite",
    "routeShortName",
    "fleetVehicleId",
    "vehicleRunningStatus",
    "speed",
    "bearing",
    "heading",
    "occupancy",
)


def _terms(context: list[Any]) -> dict[str, str]:
    terms = context[1]
    assert isinstance(terms, dict)
    return terms


def _build_context() -> list[Any]:
    """The core context and the gateway's IRIs (examples/gateway/entities.py) for the
    terms the map uses: the entities are stored under those IRIs."""
    vehicle, spot = _terms(VEHICLE_CONTEXT), _terms(PARKING_SPOT_CONTEXT)
    terms = {"Vehicle": vehicle["Vehicle"], "ParkingSpot": spot["ParkingSpot"]}
    for name in ATTRIBUTES:
        for source in (vehicle, spot):
            if name in source:
                terms[name] = source[name]
    return [CORE_CONTEXT, terms]


#: The subscriber's @context (location and status are core terms).
CONTEXT: Final = _build_context()


def link_header(url: str) -> str:
    """A Link header naming a JSON-LD @context (clause 6.3.5)."""
    return f'<{url}>; rel="{LINK_REL}"; type="{JSONLD}"'


def subscription_body(
    subscription_id: str, notify_url: str, context: object, description: str
) -> dict[str, Any]:
    """The subscription: Vehicle and ParkingSpot entities, created, changed or deleted,
    notified in keyValues to notify_url. The @context is sent in the body."""
    return {
        "id": subscription_id,
        "type": "Subscription",
        "subscriptionName": "kaido-subscriber",
        "description": description,
        "entities": [{"type": t} for t in ENTITY_TYPES],
        "notificationTrigger": ["entityCreated", "entityUpdated", "entityDeleted"],
        "notification": {
            "format": "keyValues",
            "attributes": list(ATTRIBUTES),
            "endpoint": {"uri": notify_url, "accept": JSON},
        },
        "@context": context,
    }


class BrokerError(Exception):
    """The broker answered with an error (or something that is not NGSI-LD)."""

    def __init__(self, status: int, message: str, problem: str | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        #: The ProblemDetails type's last segment, e.g. LdContextNotAvailable.
        self.problem = problem


async def _error(response: aiohttp.ClientResponse) -> BrokerError:
    raw = await response.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and ("title" in body or "detail" in body):
        problem = str(body.get("type", "")).rsplit("/", 1)[-1] or None
        title = problem or body.get("title") or response.reason
        return BrokerError(response.status, f"{title}: {body.get('detail', '')}".strip(), problem)
    text = raw[:200].decode(errors="replace").strip()
    return BrokerError(response.status, f"{response.reason}: {text}".rstrip(": "))


class BrokerClient:
    """NGSI-LD requests to one broker (and one tenant), on a caller's session."""

    def __init__(self, session: aiohttp.ClientSession, url: str, tenant: str | None) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.tenant = tenant

    def _headers(self, **extra: str) -> dict[str, str]:
        headers = {"Accept": JSON, **extra}
        if self.tenant is not None:
            headers["NGSILD-Tenant"] = self.tenant
        return headers

    async def create_subscription(self, body: dict[str, Any]) -> None:
        """POST the subscription (with its @context in the body): 201 expected."""
        async with self.session.post(
            self.url + SUBSCRIPTIONS,
            data=orjson.dumps(body),
            headers=self._headers(**{"Content-Type": JSONLD}),
        ) as response:
            if response.status != 201:
                raise await _error(response)

    async def delete_subscription(self, subscription_id: str) -> bool:
        """DELETE a subscription; False if the broker has no such subscription."""
        url = f"{self.url}{SUBSCRIPTIONS}/{quote(subscription_id, safe=':')}"
        async with self.session.delete(url, headers=self._headers()) as response:
            if response.status == 404:
                return False
            if response.status != 204:
                raise await _error(response)
            return True

    async def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription of the tenant (page after page); none if it has no data."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"limit": "100", "offset": str(len(found))}
            async with self.session.get(
                self.url + SUBSCRIPTIONS, params=params, headers=self._headers()
            ) as response:
                if response.status == 404:  # NonexistentTenant: nothing there yet
                    return found
                if response.status != 200:
                    raise await _error(response)
                page = await response.json(loads=orjson.loads)
            if not isinstance(page, list):
                raise BrokerError(response.status, "the subscriptions are not a JSON array")
            found += page
            if len(page) < 100:
                return found

    async def entities(self, types: str, context_url: str) -> list[dict[str, Any]]:
        """GET /ngsi-ld/v1/entities?type=...&options=keyValues, page after page (offset),
        with a Link header to context_url. A tenant that does not exist yet has none."""
        found: list[dict[str, Any]] = []
        headers = self._headers(Link=link_header(context_url))
        while True:
            params = {
                "type": types,
                "options": "keyValues",
                "limit": str(PAGE_SIZE),
                "offset": str(len(found)),
            }
            async with self.session.get(
                self.url + ENTITIES, params=params, headers=headers
            ) as response:
                if response.status == 404:
                    error = await _error(response)
                    if error.problem == "NonexistentTenant":
                        return found
                    raise error
                if response.status != 200:
                    raise await _error(response)
                page = await response.json(loads=orjson.loads)
            if not isinstance(page, list):
                raise BrokerError(response.status, "the entities are not a JSON array")
            found += page
            if len(page) < PAGE_SIZE:
                return found
