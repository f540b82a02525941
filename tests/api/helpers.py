"""Small helpers shared by the HTTP tests."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse

ERR = "https://uri.etsi.org/ngsi-ld/errors/"
ENTITIES = "/ngsi-ld/v1/entities"
JSON = {"Content-Type": "application/json"}
LD = {"Content-Type": "application/ld+json"}
CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"


async def problem(response: ClientResponse, status: int, type_name: str) -> dict[str, Any]:
    """Assert a ProblemDetails response and return its body."""
    body = await response.json(content_type=None)
    assert response.status == status, body
    assert response.content_type == "application/json"
    assert body["type"] == ERR + type_name, body
    assert body["title"] and body["detail"], body
    return body  # type: ignore[no-any-return]


def vehicle(n: int = 1, **attrs: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Vehicle:{n}",
        "type": "Vehicle",
        "speed": {"type": "Property", "value": 50 + n},
        **attrs,
    }
