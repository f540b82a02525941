"""MQTT delivery (NGSI-LD MQTT notification binding, clause 7.2 of the HTTP/MQTT bindings).

The endpoint is ``mqtt[s]://[user[:password]@]host[:port]/topic``; the message is
``{"metadata": {Content-Type, Link, receiverInfo...}, "body": notification}`` published
on the topic with the QoS of notifierInfo ``MQTT-QoS`` (0 by default) and the protocol of
``MQTT-Version`` (mqtt3.1.1 by default, or mqtt5.0).

aiomqtt (on paho-mqtt, the Eclipse client) is used because it is asyncio-native and
maintained: one connection per broker and credentials is kept open and shared, and a
publish with QoS 1 or 2 returns only once the broker has acknowledged it.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from contextlib import suppress
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson

from ..ngsild.notification import Delivery
from .ports import DeliveryError
from .settings import NotifySettings

__all__ = ["MqttSender", "mqtt_target"]

ConnectionKey = tuple[str, str, int, str | None, str | None, str]


def mqtt_target(delivery: Delivery) -> tuple[ConnectionKey, str, int]:
    """(connection key, topic, QoS) of an MQTT endpoint."""
    parts = urlsplit(delivery.endpoint["uri"])
    scheme = parts.scheme.lower()
    port = parts.port or (8883 if scheme == "mqtts" else 1883)
    info = {i["key"]: i["value"] for i in delivery.endpoint.get("notifierInfo", ())}
    version = info.get("MQTT-Version", "mqtt3.1.1")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    key = (scheme, parts.hostname or "", port, user, password, version)
    return key, parts.path.lstrip("/"), int(info.get("MQTT-QoS", "0"))


class MqttSender:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._clients: dict[ConnectionKey, aiomqtt.Client] = {}
        self._locks: dict[ConnectionKey, asyncio.Lock] = {}

    async def _connect(self, key: ConnectionKey, wait: float) -> aiomqtt.Client:
        client = self._clients.get(key)
        if client is not None:
            return client
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            client = self._clients.get(key)
            if client is None:
                scheme, host, port, user, password, version = key
                client = aiomqtt.Client(
                    host,
                    port,
                    username=user,
                    password=password,
                    identifier=f"kaido-{uuid.uuid4().hex[:12]}",
                    protocol=(
                        aiomqtt.ProtocolVersion.V5
                        if version == "mqtt5.0"
                        else aiomqtt.ProtocolVersion.V311
                    ),
                    tls_context=ssl.create_default_context() if scheme == "mqtts" else None,
                    timeout=wait,
                )
                await client.__aenter__()
                self._clients[key] = client
            return client

    async def _drop(self, key: ConnectionKey) -> None:
        client = self._clients.pop(key, None)
        if client is not None:
            with suppress(Exception):
                await client.__aexit__(None, None, None)

    async def send(self, delivery: Delivery, headers: dict[str, str], body: Any) -> None:
        key, topic, qos = mqtt_target(delivery)
        timeout_ms = delivery.endpoint.get("timeout")
        timeout = timeout_ms / 1000 if timeout_ms else self.settings.timeout
        payload = orjson.dumps({"metadata": headers, "body": body})
        try:
            client = await asyncio.wait_for(self._connect(key, timeout), timeout)
            await client.publish(topic, payload, qos=qos, timeout=timeout)
        except (aiomqtt.MqttError, OSError, TimeoutError) as err:
            await self._drop(key)
            reason = str(err) or type(err).__name__
            raise DeliveryError(f"MQTT {key[1]}:{key[2]}: {reason}") from None

    async def close(self) -> None:
        for key in list(self._clients):
            await self._drop(key)
