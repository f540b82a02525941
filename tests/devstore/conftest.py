"""Fixtures for the dev store tests: one dev store child process for the whole session.

These tests always exercise the dev store itself (never MONGO_URI), through the same
PyMongo clients the broker uses; each test works in its own database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.synchronous.database import Database

from broker.devstore import DevStoreProcess, start_subprocess

CLIENT_OPTIONS: dict[str, Any] = {"tz_aware": True, "serverSelectionTimeoutMS": 5000}


@pytest.fixture(scope="session")
def devstore() -> Iterator[DevStoreProcess]:
    with start_subprocess() as process:
        yield process


@pytest.fixture
def db_name() -> str:
    return f"devstoretest_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sync_client(devstore: DevStoreProcess) -> Iterator[MongoClient[dict[str, Any]]]:
    with MongoClient(devstore.uri, **CLIENT_OPTIONS) as client:
        yield client


@pytest.fixture
def sync_db(
    sync_client: MongoClient[dict[str, Any]], db_name: str
) -> Iterator[Database[dict[str, Any]]]:
    yield sync_client[db_name]
    sync_client.drop_database(db_name)


@pytest.fixture
async def async_client(
    devstore: DevStoreProcess,
) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(devstore.uri, **CLIENT_OPTIONS)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def async_db(
    async_client: AsyncMongoClient[dict[str, Any]], db_name: str
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    yield async_client[db_name]
    await async_client.drop_database(db_name)
