"""``python -m broker.devstore``: run a dev store until SIGTERM or SIGINT.

Prints one line, ``KAIDO-DEVSTORE mongodb://HOST:PORT``, on stdout once listening (that is
how ``start_subprocess`` learns the port when it asked for port 0); logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from ._process import READY_PREFIX
from ._server import serve

log = logging.getLogger("broker.devstore")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m broker.devstore",
        description="Kaido dev store: an in-memory MongoDB wire-protocol server for "
        "development and tests (not MongoDB: no persistence, no replication).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0: any free port")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="also stop when stdin is closed (so that a child never outlives its parent)",
    )
    return parser


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # os.read on the raw descriptor: a daemon thread blocked in sys.stdin would hold the
    # buffer's lock and abort the interpreter's shutdown.
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except (OSError, ValueError):
        pass
    loop.call_soon_threadsafe(stop.set)


async def _run(args: argparse.Namespace) -> int:
    try:
        server = await serve(args.host, args.port)
    except OSError as exc:
        log.error("cannot listen on %s port %d: %s", args.host, args.port, exc)
        return 1
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    if args.exit_on_stdin_eof:
        threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    print(f"{READY_PREFIX}{server.uri}", flush=True)
    log.info(
        "Kaido dev store listening at %s (in memory, for development and tests only)", server.uri
    )
    await stop.wait()
    await server.close()
    log.info("Kaido dev store stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level,
        format="%(asctime)s %(levelname)s kaido-devstore: %(message)s",
    )
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(_run(args))
    except KeyboardInterrupt:  # a signal before the handlers were installed
        return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it exists: a third less CPU per reply than asyncio's socket transport."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


if __name__ == "__main__":
    sys.exit(main())
