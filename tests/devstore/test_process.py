"""How the dev store is started and stopped: in-process, as a child, from the command line."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import ConnectionFailure

from broker.devstore import DevStoreServer, serve, start_subprocess

URI_LINE = re.compile(r"^KAIDO-DEVSTORE (mongodb://127\.0\.0\.1:(\d+))\n$")


async def test_serve_in_the_running_loop() -> None:
    async with await serve() as server:
        assert isinstance(server, DevStoreServer)
        assert re.fullmatch(r"mongodb://127\.0\.0\.1:\d+", server.uri)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            server.uri, serverSelectionTimeoutMS=2000
        )
        try:
            await client.db.c.insert_many([{"_id": i} for i in range(120)])
            assert len(await client.db.c.find().to_list()) == 120
            assert await client.list_database_names() == ["db"]
        finally:
            await client.close()
        # Each server has its own data.
        async with await serve() as other:
            other_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(other.uri)
            assert await other_client.list_database_names() == []
            await other_client.close()


async def test_close_drops_connections() -> None:
    server = await serve()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        server.uri, serverSelectionTimeoutMS=300
    )
    try:
        await client.admin.command("ping")
        await server.close()
        await server.close()  # idempotent
        for _ in range(2):  # the pooled connection is gone, and so is the server
            with pytest.raises(ConnectionFailure):
                await client.admin.command("ping")
    finally:
        await client.close()


def test_command_line_prints_the_uri_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "broker.devstore", "--port", "0", "--log-level", "WARNING"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = URI_LINE.match(process.stdout.readline())
        assert match, "the first stdout line must be the URI line"
        with MongoClient[dict[str, Any]](match.group(1), serverSelectionTimeoutMS=5000) as client:
            assert client.admin.command("ping")["ok"] == 1.0
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process.stdout.read() == ""  # nothing else on stdout
    finally:
        process.kill()
        process.wait()


def test_start_subprocess_and_a_busy_port() -> None:
    with start_subprocess() as devstore:
        assert re.fullmatch(r"mongodb://127\.0\.0\.1:\d+", devstore.uri)
        with MongoClient[dict[str, Any]](devstore.uri, serverSelectionTimeoutMS=5000) as client:
            assert client.admin.command("ping")["ok"] == 1.0
        port = devstore.uri.rsplit(":", 1)[1]
        busy = subprocess.run(
            [sys.executable, "-m", "broker.devstore", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert busy.returncode == 1
        assert busy.stdout == ""
        assert "cannot listen" in busy.stderr
    assert devstore.process.returncode == 0  # stopped cleanly by SIGTERM
    devstore.stop()  # idempotent


def test_a_child_never_outlives_its_parent() -> None:
    parent = (
        "from broker.devstore import start_subprocess\n"
        "import os\n"
        "print(start_subprocess().pid, flush=True)\n"
        "os._exit(0)  # no stop(): the child must notice on its own\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, timeout=30
    )
    pid = int(result.stdout.split()[0])
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] in ("Z", "X"):
                    break  # exited (a zombie waiting for its reaper)
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the dev store {pid} kept running after its parent exited")
