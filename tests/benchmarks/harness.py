"""What both benchmark scripts need: free ports, the broker as a process of its own (so that
its CPU time and memory can be read alone), and the wait until it answers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import aiohttp

__all__ = ["ROOT", "free_port", "start_broker", "wait_until_up"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(mongo_uri: str, db: str) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m broker run` on a free port, database db; the process and its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "MONGO_URI": mongo_uri,
        "PORT": str(port),
        "MONGO_DB": db,
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "broker", "run"], env=env, cwd=ROOT)
    return process, f"http://127.0.0.1:{port}"


async def wait_until_up(http: aiohttp.ClientSession, base: str, seconds: float = 15.0) -> None:
    """Return once the broker answers /health; RuntimeError after seconds."""
    for _ in range(int(seconds * 10)):
        try:
            async with http.get(base + "/health") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the broker did not start")
