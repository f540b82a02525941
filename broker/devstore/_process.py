"""Run the dev store as a child process, as the test suite and ``make run`` do.

A separate process keeps the synchronous engine off the caller's event loop and lets sync
and async clients alike connect to it. The child exits when its stdin closes, so it never
outlives its parent, even one that is killed.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["READY_PREFIX", "DevStoreProcess", "start_subprocess"]

READY_PREFIX = "KAIDO-DEVSTORE "
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DevStoreProcess:
    """A dev store child process; ``stop()`` (or leaving the ``with`` block) ends it."""

    def __init__(self, process: subprocess.Popen[str], uri: str) -> None:
        self.process = process
        self.uri = uri

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10) -> None:
        """Terminate the dev store and wait for it (idempotent)."""
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> DevStoreProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DevStoreProcess(pid={self.pid}, uri={self.uri!r})"


def _read_line(stream: IO[str], lines: queue.Queue[str]) -> None:
    lines.put(stream.readline())


def start_subprocess(python: str = sys.executable, timeout: float = 15) -> DevStoreProcess:
    """Start ``python -m broker.devstore --port 0`` and wait until it is listening."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    process = subprocess.Popen(
        [python, "-m", "broker.devstore", "--port", "0", "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        # Ctrl-C in a terminal reaches the parent only, which then stops us in order.
        start_new_session=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_line, args=(process.stdout, lines), daemon=True)
    reader.start()
    handle = DevStoreProcess(process, "")
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        handle.stop()
        raise RuntimeError(f"the dev store did not start within {timeout} s") from None
    if not line.startswith(READY_PREFIX):
        handle.stop()
        raise RuntimeError(
            f"the dev store failed to start (exit code {process.returncode}, "
            f"first output line {line!r}); see its log above"
        )
    handle.uri = line[len(READY_PREFIX) :].strip()
    return handle
