"""Which index each shape of entity query is read from, as the store's ``explain`` says.

Issue 3: "a query must be able to use an index". The query filters are the broker's own
(``EntityStore._filter``), sorted on ``_id`` as ``EntityStore.query`` sorts them, over the
indexes every tenant database has (broker/store/indexes.py). Against the dev store the
plan is its own (broker/devstore/_planner.py): the ``type_id`` index, read in ``_id``
order. Against a real MongoDB (MONGO_URI) the planner may prefer the 2dsphere index for a
geo-query; either way no shape may scan the whole collection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import ASCENDING, AsyncMongoClient

from broker.ngsild.context import CORE
from broker.ngsild.geoquery import parse_geoquery
from broker.ngsild.parse import parse_entity
from broker.ngsild.q import parse_q, parse_type_expression
from broker.store import EntityQuery, Selector, Store
from broker.store.entities import READ_PROJECTION, EntityStore

T0 = "2026-01-01T00:00:00.000Z"


@pytest.fixture
async def entities(mongo_uri: str, db_prefix: str) -> AsyncIterator[EntityStore]:
    store = Store(AsyncMongoClient(mongo_uri), db_prefix)
    entities = await store.entities(None, create=True)
    for n in range(40):
        body = {
            "id": f"urn:ngsi-ld:Vehicle:{n}",
            "type": "Vehicle" if n % 4 else "Bus",
            "speed": n,
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [135.0 + n / 1000, 34.6]},
            },
        }
        await entities.create(parse_entity(body, CORE, T0))
    yield entities
    await store.close()


def _stages(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(stage, index name) of every stage of a winning plan, outermost first."""
    found = [(str(plan.get("stage")), plan.get("indexName"))]
    for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
        if isinstance(child, dict):
            found += _stages(child)
    return found


async def _plan(entities: EntityStore, query: EntityQuery) -> list[tuple[str, str | None]]:
    cursor = (
        entities.collection.find(EntityStore._filter(entities, query), READ_PROJECTION)
        .sort([("_id", ASCENDING)])
        .limit(query.limit)
    )
    explained = await cursor.explain()
    planner = explained["queryPlanner"]
    # MongoDB 7+ may nest the classic plan under queryPlan (slot-based engine).
    winning = planner["winningPlan"]
    return _stages(winning.get("queryPlan", winning))


VEHICLES = (Selector(parse_type_expression("Vehicle", CORE)),)
SHAPES = {
    "type": EntityQuery(VEHICLES, limit=100),
    "type + q": EntityQuery(VEHICLES, q=parse_q("speed<30", CORE), limit=100),
    "type + geo": EntityQuery(
        VEHICLES,
        geo=parse_geoquery("near;maxDistance==2000", "Point", "[135.0,34.6]", None, CORE.expand),
        limit=100,
    ),
    "two types": EntityQuery((Selector(parse_type_expression("Vehicle,Bus", CORE)),), limit=100),
    "type + idPattern": EntityQuery(
        (Selector(parse_type_expression("Vehicle", CORE), id_pattern="^urn:ngsi-ld:Vehicle:1"),),
        limit=100,
    ),
    "type + id list": EntityQuery(
        (Selector(parse_type_expression("Vehicle", CORE), ids=("urn:ngsi-ld:Vehicle:1",)),),
        limit=100,
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_every_query_shape_reads_an_index(
    entities: EntityStore, uses_devstore: bool, shape: str
) -> None:
    stages = await _plan(entities, SHAPES[shape])
    assert ("COLLSCAN", None) not in stages, stages
    indexes = {name for _, name in stages if name}
    if uses_devstore:
        # The dev store's planner reads type_id in _id order: no sort stage.
        assert indexes == {"type_id"}, stages
        assert not any(stage == "SORT" for stage, _ in stages)
    else:
        assert indexes & {"type_id", "_id_"} or any(n.startswith("geo:") for n in indexes)


async def test_the_answers_are_the_ones_a_scan_gives(entities: EntityStore) -> None:
    """What the index gives is what the query means (checked here by counting)."""
    found, total = await entities.query(
        EntityQuery(VEHICLES, q=parse_q("speed<30", CORE), limit=5, count=True)
    )
    assert total == sum(1 for n in range(30) if n % 4)
    assert [e["id"] for e in found] == sorted(
        f"urn:ngsi-ld:Vehicle:{n}" for n in range(30) if n % 4
    )[:5]
