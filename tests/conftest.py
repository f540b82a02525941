"""Shared fixtures: a store (a real MongoDB from MONGO_URI, else the dev store) and a broker.

Each test gets its own database prefix, so tests never see each other's data, and its
databases are dropped afterwards (so a real MongoDB is left clean).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pymongo import MongoClient

from broker.api import create_app
from broker.settings import Settings


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    uri = os.environ.get("MONGO_URI")
    if uri:
        yield uri
        return
    from broker.devstore import start_subprocess

    devstore = start_subprocess()
    try:
        yield devstore.uri
    finally:
        devstore.stop()


@pytest.fixture(scope="session")
def uses_devstore(mongo_uri: str) -> bool:
    """True when the store is the project's dev store (it says so in buildInfo)."""
    with MongoClient(mongo_uri) as client:
        return "kaidoDevstore" in client.admin.command("buildInfo")


@pytest.fixture
def db_prefix(mongo_uri: str) -> Iterator[str]:
    prefix = f"kaidotest_{uuid.uuid4().hex[:10]}"
    yield prefix
    with MongoClient(mongo_uri) as client:
        for name in client.list_database_names():
            if name == prefix or name.startswith(prefix + "-"):
                client.drop_database(name)


@pytest.fixture
def settings(db_prefix: str) -> Settings:
    return replace(Settings(), mongo_db=db_prefix, max_body_bytes=64 * 1024)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Any], settings: Settings, mongo_uri: str
) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(settings, mongo_uri)
    yield await aiohttp_client(app)
