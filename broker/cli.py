"""Command line: ``kaido`` / ``python -m broker``.

``run`` (the default) starts the broker. Without MONGO_URI it first starts the embedded
dev store (a MongoDB wire-protocol server over an in-memory engine, for development and
tests only) and says loudly that data will not survive a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
from collections.abc import Sequence
from dataclasses import replace

from . import __version__, logs
from .datamodels import cli as datamodels_cli
from .settings import Settings

__all__ = ["main"]

log = logging.getLogger("kaido")

_ENV_HELP = """\
environment:
  PORT                   port to listen on (default 1026, as Orion-LD)
  HOST                   address to bind (default 0.0.0.0)
  MONGO_URI              MongoDB connection string; unset: start the in-memory dev store
  MONGO_DB               database name of the default tenant and prefix of the others
                         (default kaido)
  LOG_LEVEL              DEBUG, INFO, WARNING or ERROR (default INFO)
  LOG_FORMAT             text, or json for one JSON object per line (default text)
  MAX_BODY_BYTES         largest request body accepted (default 8388608)
  MAX_URL_BYTES          longest request line accepted (default 65536)
  MAX_BATCH              most entities in one batch operation (default 2000)
  MAX_LIMIT              largest page size a query may ask for (default 1000)
  CONTEXT_FETCH_TIMEOUT  seconds to wait for a remote @context (default 5)
  CONTEXT_CACHE_SECONDS  how long a fetched @context is reused (default 3600)
  PUBLIC_URL             the broker's public base URL, used in hosted @context URLs
  MODEL_ENFORCEMENT      data-model checks on writes: off, warn or enforce (default off)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kaido",
        description="Kaido, an NGSI-LD context broker (ETSI GS CIM 009) on MongoDB.",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kaido {__version__}")
    sub = parser.add_subparsers(dest="command")
    datamodels_cli.add_subcommands(sub)
    run = sub.add_parser(
        "run",
        help="start the broker (the default command)",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--host", help="address to bind (overrides HOST)")
    run.add_argument("--port", type=int, help="port to listen on (overrides PORT)")
    return parser


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it exists (less CPU per request), else the standard loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


#: The broker makes many short-lived objects per request and few reference cycles: young
#: collections every 700 allocations (CPython's default) and the full ones they trigger
#: cost 10-20% of the CPU of a batch write. Less frequent passes, same memory bound.
_GC_THRESHOLDS = (20_000, 20, 20)


async def _settle_heap(app: object) -> None:
    """Once started: what is loaded now lives as long as the process, so the collector
    stops scanning it (gc.freeze)."""
    gc.collect()
    gc.freeze()


def _run(settings: Settings) -> int:
    from aiohttp import web

    from .api import create_app

    devstore = None
    mongo_uri = settings.mongo_uri
    if mongo_uri is None:
        from .devstore import start_subprocess

        devstore = start_subprocess()
        mongo_uri = devstore.uri
        log.warning("=" * 72)
        log.warning("MONGO_URI is not set: using the embedded DEV STORE at %s", mongo_uri)
        log.warning("Data is kept IN MEMORY ONLY and is lost when the broker stops.")
        log.warning("For production set MONGO_URI to a MongoDB replica set or cluster.")
        log.warning("=" * 72)
    try:
        app = create_app(settings, mongo_uri)
        app.on_startup.append(_settle_heap)
        gc.set_threshold(*_GC_THRESHOLDS)
        log.info("kaido %s listening on http://%s:%d", __version__, settings.host, settings.port)
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=None,
            loop=_new_loop(),
        )
    finally:
        if devstore is not None:
            devstore.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in datamodels_cli.COMMANDS:
        return datamodels_cli.run(args)
    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    if args.command in (None, "run"):
        if getattr(args, "host", None):
            settings = replace(settings, host=args.host)
        if getattr(args, "port", None):
            settings = replace(settings, port=args.port)
        try:
            return _run(settings)
        except KeyboardInterrupt:
            return 0
    return 2
