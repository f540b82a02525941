"""Entity API benchmark (`make bench`): the broker next to the raw driver, on the same store.

Runs the broker as its own process (so its CPU time and memory can be read alone) against
the dev store (or MONGO_URI), drives it over HTTP on loopback with concurrent clients, and
does the same operations with PyMongo's AsyncMongoClient directly. Printed per operation:
requests/s, p50/p99 latency, the broker's CPU time per request (from /proc via psutil,
not wall time) and the ratio broker rate / driver rate measured in the same run.

This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import psutil
from harness import ROOT, start_broker, wait_until_up
from pymongo import AsyncMongoClient

sys.path.insert(0, ROOT)

from broker.devstore import start_subprocess

JSON = {"Content-Type": "application/json"}


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def line(self, baseline: Result | None = None) -> str:
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1e3
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3
        text = f"{self.name:<28} {self.rate:>9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        if self.cpu_seconds is not None:
            text += f"  broker CPU {self.cpu_seconds / self.count * 1e6:6.0f} us/req"
        if baseline is not None:
            text += f"  ratio to driver {self.rate / baseline.rate:5.2f}"
        return text


def entity(n: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Vehicle:{n}",
        "type": "Vehicle",
        "speed": {"type": "Property", "value": n % 120, "unitCode": "KMH"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [135.0 + n % 100 / 1000, 34.6]},
        },
        "fuel": {"type": "Property", "value": 0.5, "observedAt": "2026-01-01T00:00:00Z"},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Company:1"},
    }


async def run_ops(
    name: str,
    n: int,
    concurrency: int,
    op: Callable[[int], Awaitable[None]],
    proc: psutil.Process | None,
) -> Result:
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            t = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t)

    cpu0 = proc.cpu_times() if proc else None
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - t0
    cpu = None
    if proc and cpu0:
        cpu1 = proc.cpu_times()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        # What the broker spends on its own while idle (subscription and outbox polling)
        # is not the requests' cost: it matters only when requests are slow and few.
        cpu = max(0.0, cpu - IDLE_CPU_PER_SECOND * seconds)
    return Result(name, n, seconds, latencies, cpu)


IDLE_CPU_PER_SECOND = 0.0


async def measure_idle(proc: psutil.Process, seconds: float = 3.0) -> float:
    """The broker's CPU seconds per second while it serves nothing."""
    cpu0 = proc.cpu_times()
    await asyncio.sleep(seconds)
    cpu1 = proc.cpu_times()
    return ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / seconds


async def bench(args: argparse.Namespace, mongo_uri: str) -> None:
    db = f"kaidobench{os.getpid()}"
    broker, base = start_broker(mongo_uri, db)
    proc = psutil.Process(broker.pid)
    try:
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_until_up(http, base)
            global IDLE_CPU_PER_SECOND
            IDLE_CPU_PER_SECOND = await measure_idle(proc)
            print(
                f"broker CPU while idle (background polling): "
                f"{IDLE_CPU_PER_SECOND * 1e3:.1f} ms/s, subtracted below"
            )
            n = args.requests
            url = base + "/ngsi-ld/v1/entities"

            async def create(i: int) -> None:
                async with http.post(url, json=entity(i), headers=JSON) as r:
                    assert r.status == 201, await r.text()

            async def retrieve(i: int) -> None:
                async with http.get(f"{url}/urn:ngsi-ld:Vehicle:{i}") as r:
                    assert r.status == 200
                    await r.read()

            async def update(i: int) -> None:
                body = {"speed": {"type": "Property", "value": i % 90, "unitCode": "KMH"}}
                async with http.patch(
                    f"{url}/urn:ngsi-ld:Vehicle:{i}/attrs", json=body, headers=JSON
                ) as r:
                    assert r.status == 204, await r.text()

            results = [
                await run_ops("broker create", n, args.concurrency, create, proc),
                await run_ops("broker retrieve", n, args.concurrency, retrieve, proc),
                await run_ops("broker update attrs", n, args.concurrency, update, proc),
                # Retrieves asked together share one store query (broker/store/reads.py):
                # one client at a time shows what a retrieve costs alone.
                await run_ops("broker retrieve, 1 client", n // 3, 1, retrieve, proc),
            ]

            raw_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
            coll = raw_client[db + "raw"]["entities"]

            async def raw_create(i: int) -> None:
                doc = entity(i)
                await coll.insert_one({"_id": doc.pop("id"), **doc})

            async def raw_retrieve(i: int) -> None:
                assert await coll.find_one({"_id": f"urn:ngsi-ld:Vehicle:{i}"}) is not None

            async def raw_update(i: int) -> None:
                await coll.update_one(
                    {"_id": f"urn:ngsi-ld:Vehicle:{i}"}, {"$set": {"speed.value": i % 90}}
                )

            raw = [
                await run_ops("driver insert_one", n, args.concurrency, raw_create, None),
                await run_ops("driver find_one", n, args.concurrency, raw_retrieve, None),
                await run_ops("driver update_one", n, args.concurrency, raw_update, None),
                await run_ops("driver find_one, 1 client", n // 3, 1, raw_retrieve, None),
            ]
            print(
                f"\n{n} requests per operation, {args.concurrency} concurrent clients "
                f"(but where it says 1 client: {n // 3} requests)"
            )
            for result, baseline in zip(results, raw, strict=True):
                print(result.line(baseline))
            for result in raw:
                print(result.line())

            await bench_batch(http, base, proc, raw_client[db + "rawbatch"]["entities"], args)
            await bench_query(http, base, proc, raw_client[db]["entities"], args)

            if args.memory_entities:
                offset = 10_000_000
                more = args.memory_entities - n
                t0 = time.perf_counter()
                await run_ops("fill", more, args.concurrency, lambda i: create(offset + i), None)
                rss = proc.memory_info().rss / 2**20
                print(
                    f"\nbroker RSS after {args.memory_entities} entities written: {rss:.0f} MiB "
                    f"({time.perf_counter() - t0:.0f} s to write them)"
                )
            await raw_client.drop_database(db + "raw")
            await raw_client.drop_database(db)
            await raw_client.close()
    finally:
        broker.terminate()
        broker.wait(10)


def batch_entity(n: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:AirQualityObserved:{n}",
        "type": "AirQualityObserved",
    }
    for k in range(10):
        body[f"pollutant{k}"] = {
            "type": "Property",
            "value": (n * 7 + k) % 300,
            "unitCode": "GQ",
            "observedAt": "2026-11-27T09:00:00Z",
        }
    return body


async def bench_batch(
    http: aiohttp.ClientSession,
    base: str,
    proc: psutil.Process,
    raw: Any,
    args: argparse.Namespace,
) -> None:
    """Batch upsert of 1,000 entities x 10 attributes, next to a raw bulk_write."""
    from pymongo import ReplaceOne

    size, rounds = 1000, args.batch_rounds
    url = base + "/ngsi-ld/v1/entityOperations/upsert"
    batches = [[batch_entity(r * size + i) for i in range(size)] for r in range(rounds)]
    latencies: list[float] = []
    cpu0 = proc.cpu_times()
    t0 = time.perf_counter()
    for batch in batches * 2:  # first round creates, second replaces
        t = time.perf_counter()
        async with http.post(url, json=batch, headers=JSON) as r:
            assert r.status in (201, 204), await r.text()
        latencies.append(time.perf_counter() - t)
    seconds = time.perf_counter() - t0
    cpu1 = proc.cpu_times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    cpu = max(0.0, cpu - IDLE_CPU_PER_SECOND * seconds)
    entities = size * rounds * 2
    t0 = time.perf_counter()
    for batch in batches * 2:
        docs = [{"_id": e["id"], **{k: v for k, v in e.items() if k != "id"}} for e in batch]
        await raw.bulk_write(
            [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
        )
    raw_seconds = time.perf_counter() - t0
    rate, raw_rate = entities / seconds, entities / raw_seconds
    print(
        f"\nbatch upsert {size} entities x 10 attrs: {rate:,.0f} entities/s, "
        f"p50 {sorted(latencies)[len(latencies) // 2] * 1e3:.0f} ms per batch, "
        f"broker CPU {cpu / entities * 1e6:.0f} us/entity; raw bulk_write {raw_rate:,.0f} "
        f"entities/s; ratio {rate / raw_rate:.2f}"
    )


async def bench_query(
    http: aiohttp.ClientSession,
    base: str,
    proc: psutil.Process,
    raw: Any,
    args: argparse.Namespace,
) -> None:
    """A type + q query and a geo query returning 100 entities, next to the raw find of
    the same filter on the same store (the broker's own filter, so the work is the same)."""
    from broker.ngsild.context import CORE
    from broker.ngsild.geoquery import parse_geoquery
    from broker.ngsild.q import parse_q, parse_type_expression
    from broker.store import EntityQuery, Selector
    from broker.store.entities import EntityStore

    url = base + "/ngsi-ld/v1/entities"
    # Vehicles as written by the create benchmark (speed = n % 120, points spread east),
    # topped up to 10,000.
    for start in range(args.requests, 10_000, 1000):
        chunk = [entity(i) for i in range(start, min(start + 1000, 10_000))]
        async with http.post(
            base + "/ngsi-ld/v1/entityOperations/upsert", json=chunk, headers=JSON
        ) as r:
            assert r.status in (201, 204), await r.text()
    shapes = {
        "type + q (speed<100)": (
            {"type": "Vehicle", "q": "speed<100", "limit": "100"},
            EntityQuery(
                (Selector(parse_type_expression("Vehicle", CORE)),),
                q=parse_q("speed<100", CORE),
                limit=100,
            ),
        ),
        "geo (near 2 km)": (
            {
                "type": "Vehicle",
                "georel": "near;maxDistance==2000",
                "geometry": "Point",
                "coordinates": "[135.0,34.6]",
                "limit": "100",
            },
            EntityQuery(
                (Selector(parse_type_expression("Vehicle", CORE)),),
                geo=parse_geoquery(
                    "near;maxDistance==2000", "Point", "[135.0,34.6]", None, CORE.expand
                ),
                limit=100,
            ),
        ),
    }
    n = args.queries
    print()
    for name, (params, spec) in shapes.items():
        flt = EntityStore._filter(EntityStore.__new__(EntityStore), spec)

        async def broker_query(i: int, params: dict[str, str] = params) -> None:
            async with http.get(url, params=params) as r:
                assert r.status == 200, await r.text()
                await r.read()

        async def raw_query(i: int, flt: dict[str, Any] = flt) -> None:
            [d async for d in raw.find(flt).sort("_id", 1).limit(100)]

        result = await run_ops(f"query {name}", n, 4, broker_query, proc)
        baseline = await run_ops(f"driver find {name}", n, 4, raw_query, None)
        print(result.line(baseline))
        print(baseline.line())
        explained = await raw.find(flt).sort("_id", 1).limit(100).explain()
        print(f"  explain: {' <- '.join(_stages(explained['queryPlanner']['winningPlan']))}")


def _stages(plan: dict[str, Any]) -> list[str]:
    """A winning plan's stages, outermost first, with the index each one reads."""
    plan = plan.get("queryPlan", plan)  # MongoDB 7+ (slot-based engine) nests it
    stage = str(plan.get("stage"))
    if plan.get("indexName"):
        stage += f" {plan['indexName']}"
    found = [stage]
    for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
        if isinstance(child, dict):
            found += _stages(child)
    return found


def bench_validation() -> None:
    """Data-model validation per entity, validators compiled once and cached."""
    from pathlib import Path

    import orjson

    from broker.datamodels import ModelRegistry

    t0 = time.perf_counter()
    registry = ModelRegistry.default()
    load = time.perf_counter() - t0
    examples = sorted(Path(ROOT, "models").glob("*/*/examples/valid-normalized.json"))
    entities = [orjson.loads(p.read_bytes()) for p in examples]
    for e in entities:  # compile each validator once
        registry.validate(e)
    rounds = max(1, 2000 // len(entities))
    t0 = time.process_time()
    for _ in range(rounds):
        for e in entities:
            registry.validate(e)
    per = (time.process_time() - t0) / (rounds * len(entities))
    print(
        f"\ndata-model validation: {per * 1e6:.0f} us CPU per entity (normalized, "
        f"{len(entities)} models, cached validators); loading the models: {load:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-rounds", type=int, default=5, help="batches of 1,000 to send")
    parser.add_argument("--queries", type=int, default=200, help="requests per query shape")
    parser.add_argument(
        "--memory-entities", type=int, default=100_000, help="0 to skip the memory check"
    )

    args = parser.parse_args()
    cpu = psutil.cpu_count()
    print(f"machine: {cpu} CPUs, Python {sys.version.split()[0]}, {os.uname().machine}")
    bench_validation()
    uri = os.environ.get("MONGO_URI")
    if uri:
        print("store: MongoDB at MONGO_URI")
        asyncio.run(bench(args, uri))
        return
    devstore = start_subprocess()
    print("store: kaido dev store (in memory) in its own process")
    try:
        asyncio.run(bench(args, devstore.uri))
    finally:
        devstore.stop()


if __name__ == "__main__":
    main()
