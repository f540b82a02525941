"""The command line: serve the live map until Ctrl-C (SIGINT) or SIGTERM. From the
repository root: `.venv/bin/python -m examples.subscriber --broker http://localhost:1026`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web

from .app import Options, create_app

__all__ = ["main", "parse_args", "serve"]

log = logging.getLogger("kaido.subscriber")


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"must be an http(s) URL, not {text!r}")
    return text.rstrip("/")


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number (1-65535), not {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m examples.subscriber",
        description="A live map of the city: subscribes to an NGSI-LD broker (Vehicle and "
        "ParkingSpot entities, keyValues notifications over HTTP) and shows buses and "
        "parking availability in a web page that updates as notifications arrive.",
    )
    p.add_argument(
        "--broker", type=_http_url, default=d.broker, help=f"broker base URL (default {d.broker})"
    )
    p.add_argument("--host", default=d.host, help=f"address to listen on (default {d.host})")
    p.add_argument(
        "--port", type=_port, default=d.port, help=f"port to listen on (default {d.port})"
    )
    p.add_argument(
        "--public-url",
        type=_http_url,
        metavar="URL",
        help="this app's URL as the broker reaches it; notifications go to URL/notify "
        "(default http://127.0.0.1:PORT, right when the broker runs on this machine)",
    )
    p.add_argument("--tenant", help="NGSILD-Tenant to follow (default: the default tenant)")
    p.add_argument(
        "--context",
        type=_http_url,
        metavar="URL",
        help="a JSON-LD @context URL defining Vehicle and ParkingSpot, instead of the app's "
        "own (the gateway's Smart Data Models terms); e.g. the core context for entities "
        "written without one",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=d.timeout,
        help=f"seconds to wait for each answer of the broker (default {d.timeout:g})",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default INFO",
    )
    return p


def parse_args(argv: Sequence[str] | None = None) -> tuple[Options, str]:
    """The Options and the log level from a command line (without the program name)."""
    args = _parser().parse_args(argv)
    fields = {k: v for k, v in vars(args).items() if k != "log_level"}
    return Options(**fields), args.log_level


async def serve(options: Options, stop: asyncio.Event | None = None) -> None:
    """Serve the app until stop is set (then unsubscribe and close)."""
    stop = stop or asyncio.Event()
    runner = web.AppRunner(create_app(options), shutdown_timeout=5.0, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        shown = "localhost" if options.host in ("0.0.0.0", "::", "") else options.host
        log.info(
            "live map on http://%s:%d/ (notifications to %s), following %s",
            shown,
            options.port,
            options.notify_url,
            options.broker,
        )
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()


async def _main(options: Options) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    await serve(options, stop)


def main(argv: Sequence[str] | None = None) -> int:
    options, level = parse_args(argv)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(_main(options))
    except OSError as err:  # e.g. the port is taken
        log.error("cannot serve on %s:%d: %s", options.host, options.port, err)
        return 1
    return 0
