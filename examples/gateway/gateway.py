"""The gateway: a loop that reads the simulated sensors and upserts them to the broker.

Each cycle ("tick", --rate of them per second) reads the sensors that report (every bus,
the parking spots that changed, every air-quality station), adds them to the pending
entities (the latest state of an entity replaces an older one not sent yet) and sends the
pending entities as batch upserts of at most --batch-size entities. A batch the broker
cannot take now (5xx, no connection) is retried with backoff, then kept for the next cycle;
a batch it refuses (4xx) is reported and dropped. The first cycle sends every entity.

Run it with `python -m examples.gateway --help` from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson

from .entities import Entity
from .sender import BatchSender, RetryPolicy, Stats
from .simulation import City

__all__ = ["Options", "main", "parse_args", "run", "utc_now"]

log = logging.getLogger("kaido.gateway")


@dataclass(frozen=True, slots=True)
class Options:
    """What to simulate and where to send it (the command-line options)."""

    url: str = "http://localhost:1026"
    tenant: str | None = None
    rate: float = 1.0  # ticks (batch upsert cycles) per second
    vehicles: int = 6
    spots: int = 12
    stations: int = 3
    duration: float | None = None  # seconds; None: until --ticks or Ctrl-C
    ticks: int | None = None
    batch_size: int = 100
    seed: int | None = None
    time_scale: float = 1.0  # simulated seconds per real second
    spot_change_probability: float = 0.05
    max_retries: int = 5
    backoff: float = 0.5  # first retry delay, seconds (doubles each retry)
    max_backoff: float = 30.0
    timeout: float = 10.0  # seconds per HTTP request
    dump: Path | None = None  # write the last state sent of each entity here


def utc_now() -> str:
    """The current time as an NGSI-LD DateTime: UTC, millisecond precision, trailing Z."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _chunks(entities: list[Entity], size: int) -> list[list[Entity]]:
    return [entities[i : i + size] for i in range(0, len(entities), size)]


def _dump(folder: Path, entities: dict[str, Entity]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for entity_id, entity in entities.items():
        name = entity_id.removeprefix("urn:ngsi-ld:").replace(":", "_") + ".json"
        (folder / name).write_bytes(orjson.dumps(entity, option=orjson.OPT_INDENT_2) + b"\n")
    log.info("wrote the last state sent of %d entities to %s", len(entities), folder)


async def _flush(
    sender: BatchSender, pending: dict[str, Entity], size: int, sent: dict[str, Entity] | None
) -> None:
    """Send the pending entities; those delivered or refused for good leave pending."""
    for chunk in _chunks(list(pending.values()), size):
        outcome = await sender.send(chunk)
        for entity_id in outcome.delivered + outcome.rejected:
            entity = pending.pop(entity_id, None)
            if sent is not None and entity is not None and entity_id in outcome.delivered:
                sent[entity_id] = entity
        if outcome.retry_later and not (outcome.delivered or outcome.rejected):
            break  # the broker is unreachable or failing: no use trying the other chunks now


async def run(options: Options, stop: asyncio.Event | None = None) -> Stats:
    """Run the gateway until options.ticks, options.duration or stop; the counters."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    city = City(
        vehicles=options.vehicles,
        spots=options.spots,
        stations=options.stations,
        seed=options.seed,
        spot_change_probability=options.spot_change_probability,
    )
    stats = Stats()
    policy = RetryPolicy(options.max_retries, options.backoff, options.max_backoff)
    pending: dict[str, Entity] = {}
    sent: dict[str, Entity] | None = {} if options.dump is not None else None
    interval = 1.0 / options.rate
    log.info(
        "gateway: %d buses, %d parking spots, %d air-quality stations -> %s%s, "
        "%.3g upserts/s, batches of at most %d",
        len(city.buses),
        len(city.spots),
        len(city.stations),
        options.url,
        f" (tenant {options.tenant})" if options.tenant else "",
        options.rate,
        options.batch_size,
    )
    timeout = aiohttp.ClientTimeout(total=options.timeout)
    tick = 0
    async with aiohttp.ClientSession(timeout=timeout) as session:
        sender = BatchSender(
            session,
            options.url,
            tenant=options.tenant,
            policy=policy,
            rng=random.Random(),
            stop=stop,
            stats=stats,
        )
        start = last = next_at = loop.time()
        try:
            while not stop.is_set():
                if options.ticks is not None and tick >= options.ticks:
                    break
                if options.duration is not None and loop.time() - start >= options.duration:
                    break
                tick += 1
                now, clock = utc_now(), loop.time()
                if tick == 1:
                    entities = city.snapshot(now)
                else:
                    entities = city.step((clock - last) * options.time_scale, now)
                last = clock
                pending.update((e["id"], e) for e in entities)
                before = stats.delivered, stats.created
                await _flush(sender, pending, options.batch_size, sent)
                log.info(
                    "tick %d: %d readings, %d delivered (%d created), %d pending",
                    tick,
                    len(entities),
                    stats.delivered - before[0],
                    stats.created - before[1],
                    len(pending),
                )
                next_at += interval
                delay = next_at - loop.time()
                if delay < 0:
                    if -delay > interval and not stop.is_set():
                        log.warning(
                            "%.2f s behind schedule (a slow broker, or retries): "
                            "the next cycle starts now",
                            -delay,
                        )
                    next_at = loop.time()
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            if options.dump is not None and sent:
                _dump(options.dump, sent)
    log.info(
        "done after %d ticks: %d requests, %d entity updates delivered (%d created), "
        "%d retries, %d refused, %d batches given up, %d entities not delivered",
        tick,
        stats.requests,
        stats.delivered,
        stats.created,
        stats.retries,
        stats.rejected,
        stats.gave_up,
        len(pending),
    )
    stats.undelivered = len(pending)
    return stats


# Command line


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be an integer > 0, not {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m examples.gateway",
        description="An IoT gateway for Nara: buses, parking spots and air-quality stations "
        "sent to an NGSI-LD broker as batch upserts (normalized entities with @context).",
    )
    p.add_argument("--url", default=d.url, help=f"broker base URL (default {d.url})")
    p.add_argument("--tenant", help="NGSILD-Tenant to write to (default: the default tenant)")
    p.add_argument(
        "--rate",
        type=_positive_float,
        default=d.rate,
        help=f"batch upserts (sensor cycles) per second (default {d.rate})",
    )
    p.add_argument("--vehicles", type=_count, default=d.vehicles, help="buses (default 6)")
    p.add_argument("--spots", type=_count, default=d.spots, help="parking spots (default 12)")
    p.add_argument(
        "--stations", type=_count, default=d.stations, help="air-quality stations (default 3)"
    )
    p.add_argument(
        "--duration",
        type=_positive_float,
        help="stop after this many seconds",
    )
    p.add_argument(
        "--ticks",
        type=_positive_int,
        help="stop after this many cycles (without --duration or --ticks: until Ctrl-C)",
    )
    p.add_argument(
        "--batch-size",
        type=_positive_int,
        default=d.batch_size,
        help=f"most entities per upsert request (default {d.batch_size})",
    )
    p.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    p.add_argument(
        "--time-scale",
        type=_positive_float,
        default=d.time_scale,
        help="simulated seconds per real second, e.g. 10 to watch buses move (default 1)",
    )
    p.add_argument(
        "--spot-change",
        type=_probability,
        default=d.spot_change_probability,
        dest="spot_change_probability",
        metavar="P",
        help="chance that a parking spot changes status in a cycle (default 0.05)",
    )
    p.add_argument(
        "--max-retries",
        type=_count,
        default=d.max_retries,
        help=f"retries of a batch on 5xx or connection errors (default {d.max_retries})",
    )
    p.add_argument(
        "--backoff",
        type=_positive_float,
        default=d.backoff,
        help=f"first retry delay in seconds, doubled at each retry (default {d.backoff})",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=d.timeout,
        help=f"seconds to wait for each HTTP response (default {d.timeout})",
    )
    p.add_argument(
        "--dump",
        type=Path,
        metavar="DIR",
        help="at the end, write the last state sent of each entity to DIR/<id>.json "
        "(check them with: python -m broker validate DIR/*.json)",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default INFO (one line per cycle)",
    )
    return p


def parse_args(argv: Sequence[str] | None = None) -> tuple[Options, str]:
    """The Options and the log level from a command line (without the program name)."""
    args = _parser().parse_args(argv)
    fields = {k: v for k, v in vars(args).items() if k != "log_level"}
    return Options(**fields), args.log_level


async def _main(options: Options) -> Stats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    return await run(options, stop)


def main(argv: Sequence[str] | None = None) -> int:
    """0 when every entity was delivered, 1 when some were refused or not delivered."""
    options, level = parse_args(argv)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    stats = asyncio.run(_main(options))
    return 1 if stats.rejected or stats.undelivered else 0
