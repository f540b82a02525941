"""MQTT notifications (NGSI-LD MQTT binding; ETSI TP 058) against a real Mosquitto."""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import orjson
import pytest

from broker.ngsild.changes import EntityChange
from broker.notify.notifier import Notifier
from broker.store import Store
from broker.store.subscriptions import subscription_store

from .helpers import Factory, entity, subscribe
from .receiver import Receiver

TOPIC = "kaido/test/notifications"


async def _listen(port: int, count: int, ready: asyncio.Event) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(TOPIC, qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            messages.append(orjson.loads(message.payload))
            if len(messages) >= count:
                return messages
    return messages


@pytest.mark.parametrize(("qos", "version"), [("0", "mqtt3.1.1"), ("1", "mqtt5.0"), ("2", None)])
async def test_mqtt_notification(
    notifiers: Factory, receiver: Receiver, mosquitto: int, qos: str, version: str | None
) -> None:
    """TP 058_01/02/04: the message is {"metadata": {Content-Type, Link, receiverInfo},
    "body": Notification} on the URI's topic, with the QoS of notifierInfo MQTT-QoS."""
    notifier: Notifier = await notifiers()
    store: Store = notifier.backend.store  # type: ignore[attr-defined]
    info = [{"key": "MQTT-QoS", "value": qos}]
    if version:
        info.append({"key": "MQTT-Version", "value": version})
    endpoint = {
        "uri": f"mqtt://127.0.0.1:{mosquitto}/{TOPIC}",
        "notifierInfo": info,
        "receiverInfo": [{"key": "test-receiver-key", "value": "test-receiver-info"}],
    }
    sub_id = await subscribe(store, receiver, notification={"endpoint": endpoint})
    await notifier.refresh(None, sub_id)
    ready = asyncio.Event()
    listener = asyncio.create_task(_listen(mosquitto, 1, ready))
    await asyncio.wait_for(ready.wait(), 5)
    await notifier.entities_changed([EntityChange(None, "urn:ngsi-ld:Vehicle:1", None, entity())])
    [message] = await asyncio.wait_for(listener, 5)
    metadata, body = message["metadata"], message["body"]
    assert metadata["Content-Type"] == "application/json"
    assert "ngsi-ld-core-context" in metadata["Link"]
    assert metadata["test-receiver-key"] == "test-receiver-info"
    assert body["type"] == "Notification"
    assert body["subscriptionId"] == sub_id
    assert body["data"] == [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 0}]
    subs = await subscription_store(store, None)
    for _ in range(50):
        doc = await subs.get(sub_id)
        if doc and doc.get("status") == "ok":
            break
        await asyncio.sleep(0.05)
    assert doc is not None and doc["status"] == "ok" and doc["timesSent"] == 1


async def test_mqtt_broker_down_is_a_failure(notifiers: Factory, receiver: Receiver) -> None:
    """An unreachable MQTT broker is a failed delivery (status "failed", retried)."""
    notifier: Notifier = await notifiers()
    store: Store = notifier.backend.store  # type: ignore[attr-defined]
    endpoint = {"uri": f"mqtt://127.0.0.1:9/{TOPIC}"}
    sub_id = await subscribe(store, receiver, notification={"endpoint": endpoint})
    await notifier.refresh(None, sub_id)
    await notifier.entities_changed([EntityChange(None, "urn:ngsi-ld:Vehicle:1", None, entity())])
    subs = await subscription_store(store, None)
    doc: dict[str, Any] | None = None
    for _ in range(100):
        doc = await subs.get(sub_id)
        if doc and doc.get("timesFailed"):
            break
        await asyncio.sleep(0.05)
    assert doc is not None and doc["status"] == "failed"
    assert doc["lastFailureReason"].startswith("MQTT 127.0.0.1:9")
