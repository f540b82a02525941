"""/version and /health (Orion-LD compatible operational routes)."""

from __future__ import annotations

from typing import Any

Client = Any


async def test_version(client: Client, uses_devstore: bool) -> None:
    r = await client.get("/version")
    body = await r.json()
    assert r.status == 200
    assert body["name"] == "kaido"
    expected = "kaido dev store (in memory)" if uses_devstore else "mongodb"
    assert body["store"]["kind"] == expected


async def test_health(client: Client) -> None:
    r = await client.get("/health")
    assert r.status == 200
    assert (await r.json())["status"] == "ok"
