"""Fixtures of the notifier tests: a receiver, fast settings, and Mosquitto for MQTT."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from broker.api.ldcontext import ContextResolver
from broker.notify.notifier import Notifier
from broker.notify.settings import NotifySettings
from broker.store import Store, connect
from broker.store.subscriptions import NotifierBackend

from .helpers import FAST, Factory
from .receiver import FAST_ENV, Receiver


@pytest.fixture
def fast_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[int]:
    """A Mosquitto broker on loopback (Debian package mosquitto; `make test` installs it)."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
    )
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install -y mosquitto): MQTT not tested")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        process = subprocess.Popen(
            [binary, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.skip("mosquitto did not start")
                    time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


async def _no_hosted(tenant: str | None, context_id: str) -> object | None:
    return None


@pytest.fixture
async def stores(mongo_uri: str, db_prefix: str) -> AsyncIterator[Factory]:
    """Makes Stores on the test's database (one per simulated broker process)."""
    made: list[Store] = []

    async def make() -> Store:
        store = Store(connect(mongo_uri), db_prefix)
        await store.tenants.database(None, create=True)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


@pytest.fixture
async def notifiers(stores: Factory) -> AsyncIterator[Factory]:
    """Starts notifiers (each as its own broker process would); stops them at the end."""
    started: list[Notifier] = []

    async def make(settings: NotifySettings = FAST) -> Notifier:
        resolver = ContextResolver(_no_hosted, timeout=1, cache_seconds=60)
        notifier = Notifier(NotifierBackend(await stores()), resolver.resolve, settings)
        await notifier.start()
        started.append(notifier)
        return notifier

    yield make
    for notifier in started:
        if notifier._tasks:
            await notifier.stop()
