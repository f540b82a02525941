"""Notifications end to end: writes over HTTP, a real receiver on loopback (clause 5.8.6,
5.3.1, 6.3). Expectations follow the ETSI conformance suite (TP 046, 5212)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ..notify.receiver import FAST_ENV, Receiver
from .helpers import CORE_URL, ENTITIES, JSON, LD

Client = Any
SUBS = "/ngsi-ld/v1/subscriptions"
CTX = {"Vehicle": "https://example.org/Vehicle", "speed": "https://example.org/speed"}


@pytest.fixture(autouse=True)
def fast_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def vehicle(speed: int = 50, **attrs: Any) -> dict[str, Any]:
    return {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": "Vehicle",
        "speed": {"type": "Property", "value": speed},
        **attrs,
    }


async def subscribe(
    client: Client, receiver: Receiver, headers: dict[str, str] = JSON, **members: Any
) -> str:
    notification = members.pop("notification", {})
    endpoint = {"uri": receiver.url, **notification.pop("endpoint", {})}
    body = {
        "id": "urn:ngsi-ld:Subscription:1",
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": endpoint, **notification},
        **members,
    }
    r = await client.post(SUBS, json=body, headers=headers)
    assert r.status == 201, await r.text()
    return "urn:ngsi-ld:Subscription:1"


async def write(client: Client, method: str, url: str, body: Any = None, **kw: Any) -> None:
    r = await client.request(method, url, json=body, headers=kw.get("headers", JSON))
    assert r.status in (201, 204), await r.text()


async def test_update_is_notified(client: Client, receiver: Receiver) -> None:
    """Clause 5.3.1: the Notification payload; clause 6.3.5: JSON with a Link header."""
    sub_id = await subscribe(client, receiver)
    await write(client, "POST", ENTITIES, vehicle())
    await write(client, "PATCH", f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs", {"speed": 60})
    bodies = await receiver.wait(2)
    created, updated = bodies
    assert created["triggerReason"] == "attributeCreated"
    assert updated["triggerReason"] == "attributeUpdated"
    assert updated["id"].startswith("urn:ngsi-ld:Notification:")
    assert updated["type"] == "Notification"
    assert updated["subscriptionId"] == sub_id
    assert updated["notifiedAt"].endswith("Z")
    assert updated["data"] == [vehicle(60)]
    headers = receiver.received[1][0]
    assert headers["Content-Type"] == "application/json"
    assert CORE_URL in headers["Link"]
    assert "NGSILD-Tenant" not in headers


async def test_ld_json_receiver_info_and_tenant(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.15: accept application/ld+json puts @context in the body; receiverInfo
    become headers; clause 6.3.14: the tenant is sent as NGSILD-Tenant."""
    tenant = {"NGSILD-Tenant": "nara"}
    await subscribe(
        client,
        receiver,
        {**LD, **tenant},
        notification={
            "format": "keyValues",
            "endpoint": {
                "accept": "application/ld+json",
                "receiverInfo": [{"key": "X-Auth", "value": "secret"}],
            },
        },
        **{"@context": [CTX, CORE_URL]},
    )
    entity = {**vehicle(), "@context": [CTX, CORE_URL]}
    await write(client, "POST", ENTITIES, entity, headers={**LD, **tenant})
    [body] = await receiver.wait(1)
    headers = receiver.received[0][0]
    assert headers["Content-Type"] == "application/ld+json"
    assert headers["X-Auth"] == "secret"
    assert headers["NGSILD-Tenant"] == "nara"
    assert body["@context"] == [CTX, CORE_URL]
    assert body["data"] == [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 50}]


async def test_inline_context_goes_in_the_body(client: Client, receiver: Receiver) -> None:
    """An @context that is not one URL cannot be a Link: it is sent in the body."""
    await subscribe(client, receiver, LD, **{"@context": [CTX, CORE_URL]})
    await write(client, "POST", ENTITIES, {**vehicle(), "@context": [CTX, CORE_URL]}, headers=LD)
    [body] = await receiver.wait(1)
    assert receiver.received[0][0]["Content-Type"] == "application/ld+json"
    assert body["data"][0]["type"] == "Vehicle"
    assert body["data"][0]["speed"] == {"type": "Property", "value": 50}


async def test_watched_attributes_and_q(client: Client, receiver: Receiver) -> None:
    """Clause 5.8.6 (TP 046_05): only watched attributes trigger, q on the new state."""
    await subscribe(client, receiver, watchedAttributes=["speed"], q="speed>55")
    await write(client, "POST", ENTITIES, vehicle(50, colour={"type": "Property", "value": "red"}))
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs"
    await write(client, "PATCH", url, {"colour": "blue"})  # not watched
    await write(client, "PATCH", url, {"speed": 54})  # q does not match
    await write(client, "PATCH", url, {"speed": 70})
    [body] = await receiver.wait(1)
    assert body["data"][0]["speed"]["value"] == 70
    await receiver.quiet(0.3)
    assert len(receiver.received) == 1


async def test_entity_deletion_is_notified(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.12 entityDeleted (TP 046_37): the deleted entity, attributes as Null."""
    await subscribe(
        client,
        receiver,
        notificationTrigger=["entityDeleted"],
        notification={"showChanges": True},
    )
    await write(client, "POST", ENTITIES, vehicle())
    await write(client, "DELETE", f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    [body] = await receiver.wait(1)
    assert body["triggerReason"] == "entityDeleted"
    data = body["data"][0]
    assert data["deletedAt"].endswith("Z")
    assert data["speed"] == {
        "type": "Property",
        "value": "urn:ngsi-ld:null",
        "previousValue": 50,
    }


async def test_attribute_changes_with_show_changes(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.14 showChanges (TP 046_31, 046_34): previousValue, deleted as Null."""
    await subscribe(
        client,
        receiver,
        notificationTrigger=["attributeUpdated", "attributeDeleted"],
        notification={"showChanges": True},
    )
    await write(
        client,
        "POST",
        ENTITIES,
        vehicle(driver={"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}),
    )
    await write(client, "PATCH", f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs", {"speed": 80})
    await write(client, "DELETE", f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs/driver")
    updated, deleted = await receiver.wait(2)
    assert updated["data"][0]["speed"] == {"type": "Property", "value": 80, "previousValue": 50}
    assert deleted["triggerReason"] == "attributeDeleted"
    assert deleted["data"][0]["driver"] == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:null",
        "previousObject": "urn:ngsi-ld:Person:1",
    }
    assert deleted["data"][0]["speed"] == {"type": "Property", "value": 80}


async def test_format_attributes_and_sys_attrs(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.14: notification.attributes, format and sysAttrs shape the data."""
    await subscribe(
        client,
        receiver,
        notification={"attributes": ["speed"], "format": "keyValues"},
    )
    await write(client, "POST", ENTITIES, vehicle(colour={"type": "Property", "value": "red"}))
    [body] = await receiver.wait(1)
    assert body["data"] == [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 50}]


async def test_paused_sends_nothing_until_resumed(client: Client, receiver: Receiver) -> None:
    """Table 5.2.12-1 isActive (TP 5212_01): paused, nothing; resumed, notified."""
    await subscribe(client, receiver, isActive=False)
    await write(client, "POST", ENTITIES, vehicle())
    await receiver.quiet(0.3)
    assert receiver.received == []
    r = await client.patch(
        f"{SUBS}/urn:ngsi-ld:Subscription:1", json={"isActive": True}, headers=JSON
    )
    assert r.status == 204
    await write(client, "PATCH", f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs", {"speed": 1})
    await receiver.wait(1)


async def test_expired_sends_nothing(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.12 expiresAt: past it, status "expired" and no notification."""
    from broker.ngsild.notification import iso_at

    await subscribe(client, receiver, expiresAt=iso_at(0.4))
    await asyncio.sleep(0.5)
    await write(client, "POST", ENTITIES, vehicle())
    await receiver.quiet(0.3)
    assert receiver.received == []
    got = await (await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1")).json()
    assert got["status"] == "expired"


async def test_throttling(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.12 throttling: at most one notification per period (others dropped)."""
    await subscribe(client, receiver, throttling=0.6)
    await write(client, "POST", ENTITIES, vehicle())
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs"
    await write(client, "PATCH", url, {"speed": 1})
    await write(client, "PATCH", url, {"speed": 2})
    await receiver.wait(1)
    await asyncio.sleep(0.7)
    await write(client, "PATCH", url, {"speed": 3})
    bodies = await receiver.wait(2)
    assert [b["data"][0]["speed"]["value"] for b in bodies] == [50, 3]


async def test_periodic(client: Client, receiver: Receiver) -> None:
    """Clause 5.8.6 timeInterval (TP 046_02): notified periodically, changes or not."""
    await write(client, "POST", ENTITIES, vehicle())
    await subscribe(client, receiver, timeInterval=0.4)
    bodies = await receiver.wait(3, within=3)
    assert bodies[0]["triggerReason"] == "timeInterval"
    assert bodies[0]["data"] == [vehicle()]


async def test_failures_are_reported_and_retried(client: Client, receiver: Receiver) -> None:
    """Clause 5.2.14 / TP 046_13: a failed delivery sets status "failed", lastFailure and
    timesFailed; it is retried with backoff and then succeeds (status "ok")."""
    receiver.status = 500
    await subscribe(client, receiver)
    await write(client, "POST", ENTITIES, vehicle())
    url = f"{SUBS}/urn:ngsi-ld:Subscription:1"
    for _ in range(100):
        note = (await (await client.get(url)).json())["notification"]
        if note.get("timesFailed", 0) >= 2:
            break
        await asyncio.sleep(0.05)
    assert note["status"] == "failed"
    assert note["lastFailure"].endswith("Z")
    assert note["lastFailureReason"].startswith("HTTP 500")
    receiver.status = 200
    [body] = await receiver.wait(1)
    assert body["data"] == [vehicle()]
    for _ in range(100):  # the status is recorded just after the receiver answered
        note = (await (await client.get(url)).json())["notification"]
        if note["status"] == "ok":
            break
        await asyncio.sleep(0.02)
    assert note["status"] == "ok"
    assert note["timesSent"] == note["timesFailed"] + 1
    assert note["lastSuccess"] >= note["lastFailure"]


async def test_batch_writes_are_notified(client: Client, receiver: Receiver) -> None:
    """Clause 5.6.7-5.6.10: batch operations notify like single writes."""
    await subscribe(client, receiver, notificationTrigger=["entityCreated"])
    batch = [vehicle(), {**vehicle(), "id": "urn:ngsi-ld:Vehicle:2"}]
    r = await client.post("/ngsi-ld/v1/entityOperations/create", json=batch, headers=JSON)
    assert r.status == 201
    bodies = await receiver.wait(2)
    assert sorted(b["data"][0]["id"] for b in bodies) == [
        "urn:ngsi-ld:Vehicle:1",
        "urn:ngsi-ld:Vehicle:2",
    ]


async def test_order_per_entity(client: Client, receiver: Receiver) -> None:
    """Notifications about one entity arrive in the order of the writes."""
    receiver.delay = 0.01
    await subscribe(client, receiver, notificationTrigger=["attributeUpdated"])
    await write(client, "POST", ENTITIES, vehicle())
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1/attrs"
    for speed in range(1, 11):
        await write(client, "PATCH", url, {"speed": speed})
    bodies = await receiver.wait(10)
    assert [b["data"][0]["speed"]["value"] for b in bodies] == list(range(1, 11))


async def test_deleted_subscription_stops(client: Client, receiver: Receiver) -> None:
    """Clause 5.8.5: a deleted subscription sends nothing more."""
    await subscribe(client, receiver)
    r = await client.delete(f"{SUBS}/urn:ngsi-ld:Subscription:1")
    assert r.status == 204
    await write(client, "POST", ENTITIES, vehicle())
    await receiver.quiet(0.3)
    assert receiver.received == []


async def test_link_context_is_kept_for_notifications(client: Client, receiver: Receiver) -> None:
    """Clause 5.8.1: the @context of the subscription (here a hosted one, given in a Link
    header) is stored and used to compact notifications, and named in their Link header."""
    r = await client.post("/ngsi-ld/v1/jsonldContexts", json={"@context": CTX}, headers=JSON)
    assert r.status == 201
    url = r.headers["Location"]
    link = {"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"'}
    await subscribe(client, receiver, {**JSON, **link})
    await write(client, "POST", ENTITIES, vehicle(), headers={**JSON, **link})
    [body] = await receiver.wait(1)
    assert body["data"] == [vehicle()]
    assert receiver.received[0][0]["Link"].startswith(f"<{url}>")
    got = await (await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1")).json()
    assert got["entities"] == [{"type": "https://example.org/Vehicle"}]  # core context here


async def test_batch_replace_is_notified_with_previous_values(
    client: Client, receiver: Receiver
) -> None:
    """Clauses 5.6.8 and 5.2.14: an upsert that replaces entities reads them whole when a
    subscription of the tenant may want them as they were, so showChanges has the
    previous values (without subscriptions, the batch reads only what it needs)."""
    await write(client, "POST", "/ngsi-ld/v1/entityOperations/upsert", [vehicle(50)])
    await subscribe(
        client,
        receiver,
        notificationTrigger=["attributeUpdated"],
        notification={"showChanges": True},
    )
    await write(client, "POST", "/ngsi-ld/v1/entityOperations/upsert", [vehicle(70)])
    (body,) = await receiver.wait(1)
    assert body["triggerReason"] == "attributeUpdated"
    assert body["data"][0]["speed"] == {"type": "Property", "value": 70, "previousValue": 50}
