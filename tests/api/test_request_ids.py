"""X-Request-Id on every response: the client's when sane, else a new uuid4 hex."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .helpers import ENTITIES, JSON, problem, vehicle

Client = Any

GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_generated_when_not_sent(client: Client) -> None:
    first = (await client.get("/version")).headers["X-Request-Id"]
    second = (await client.get("/version")).headers["X-Request-Id"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


async def test_a_sane_one_is_echoed(client: Client) -> None:
    rid = "edge-proxy.4711_" + "x" * 112  # 128 characters: the longest kept
    r = await client.post(ENTITIES, json=vehicle(), headers={**JSON, "X-Request-Id": rid})
    assert r.status == 201
    assert r.headers["X-Request-Id"] == rid


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "has space", "semi;colon", "üñí", "a/b"],
)
async def test_an_insane_one_is_replaced(client: Client, sent: str) -> None:
    r = await client.get("/version", headers={"X-Request-Id": sent})
    assert GENERATED.fullmatch(r.headers["X-Request-Id"])


async def test_error_responses_carry_it(client: Client) -> None:
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:none", headers={"X-Request-Id": "r-404"})
    await problem(r, 404, "ResourceNotFound")
    assert r.headers["X-Request-Id"] == "r-404"

    r = await client.post(ENTITIES, data=b'{"id": ', headers={**JSON, "X-Request-Id": "r-400"})
    await problem(r, 400, "InvalidRequest")
    assert r.headers["X-Request-Id"] == "r-400"

    r = await client.get("/no/such/route")
    await problem(r, 404, "ResourceNotFound")
    assert GENERATED.fullmatch(r.headers["X-Request-Id"])

    r = await client.put(ENTITIES, headers={"X-Request-Id": "r-405"})
    assert r.status == 405
    assert r.headers["X-Request-Id"] == "r-405"
