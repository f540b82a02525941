"""Batch operations (clause 6.14-6.18, /ngsi-ld/v1/entityOperations/...).

Each entity of a batch is checked and applied on its own: a bad entity gets its error in
the BatchOperationResult (clause 5.2.16) and never blocks the good ones. All the good
ones are written with one bulk_write (see store.batch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..ngsild.changes import EntityChange
from ..ngsild.context import Context
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import AlreadyExists, BadRequestData, NgsiError, ResourceNotFound
from ..ngsild.model import Entity
from ..ngsild.operations import append_attrs, merge_entity, replace_entity
from ..ngsild.parse import parse_entity, parse_fragment, parse_scope, parse_types
from ..ngsild.uris import check_uri
from ..store.batch import BatchOutcome, Change, gc_paused, write_batch
from .keys import CHANGES, CONTEXTS, MODELS, SETTINGS, STORE
from .negotiation import JSON, JSONLD
from .requests import Body, check_params, options, read_batch_body, tenant
from .responses import payload_response

__all__ = ["routes"]

BASE = "/ngsi-ld/v1/entityOperations"
routes = web.RouteTableDef()

#: Builds the change of one entity from its payload (already expanded) and the time.
ChangeFactory = Callable[[dict[str, Any], Context, str], Change]


def _check_size(request: web.Request, body: Body) -> None:
    limit = request.app[SETTINGS].max_batch
    if len(body.data) > limit:
        raise BadRequestData(
            f"The batch has {len(body.data)} items, over the limit of {limit} (MAX_BATCH)"
        )


async def _entities(request: web.Request, body: Body) -> list[tuple[object, Context | NgsiError]]:
    """The batch's items, each with its @context or the error that stops that item alone."""
    _check_size(request, body)
    if body.media_type != JSONLD:
        misplaced = BadRequestData(
            "An entity sent as application/json cannot carry '@context': use "
            "application/ld+json, or a Link header"
        )
        return [
            (item, misplaced if isinstance(item, dict) and "@context" in item else body.context)
            for item in body.data
        ]
    resolver = request.app[CONTEXTS]
    out: list[tuple[object, Context | NgsiError]] = []
    for item in body.data:
        if not isinstance(item, dict) or "@context" not in item:
            out.append(
                (item, BadRequestData("In application/ld+json every entity needs an '@context'"))
            )
            continue
        try:
            out.append((item, await resolver.resolve(item["@context"], tenant(request))))
        except NgsiError as err:
            out.append((item, err))
    return out


def _id_of(item: object) -> str:
    if isinstance(item, dict):
        value = item.get("id", item.get("@id"))
        if isinstance(value, str):
            return value
    return ""


def _result(outcome: BatchOutcome, success_status: int, created_body: bool) -> web.Response:
    if outcome.errors:
        body = {
            "success": outcome.succeeded(),
            "errors": [
                {"entityId": entity_id, "error": err.to_problem()}
                for entity_id, err in outcome.errors
            ],
        }
        return payload_response(body, JSON, None, status=207, link=False)
    if success_status == 201 and created_body:
        return payload_response(outcome.created, JSON, None, status=201, link=False)
    return web.Response(status=success_status)


async def _run(
    request: web.Request,
    items: list[tuple[object, Context | NgsiError]],
    factory: ChangeFactory,
    *,
    reads_attrs: bool = True,
) -> BatchOutcome:
    """Parse, check and write a batch. reads_attrs=False: the changes never look at the
    stored entities' attributes (create, replace), so when no subscription of the tenant
    wants the entities as they were, the store reads only their id, types and times."""
    now = now_iso()
    changes: list[tuple[str, Change]] = []
    contexts: list[Context] = []
    failed: list[tuple[str, NgsiError]] = []
    with gc_paused():  # parsing is a burst of small dicts and lists (see gc_paused)
        for item, ctx in items:
            entity_id = _id_of(item)
            try:
                if isinstance(ctx, NgsiError):
                    raise ctx
                if not isinstance(item, dict):
                    raise BadRequestData("A batch item must be a JSON object")
                check_uri(entity_id, "The entity 'id'")
                changes.append((entity_id, factory(item, ctx, now)))
                contexts.append(ctx)
            except NgsiError as err:
                failed.append((entity_id, err))
    store = await request.app[STORE].entities(tenant(request), create=True)
    checker = await request.app[MODELS].checker(request, tenant(request))
    if checker is not None:
        changes = [
            (entity_id, checker.wrap(change, ctx))
            for (entity_id, change), ctx in zip(changes, contexts, strict=True)
        ]
    # A subscription made between this check and _publish would see these entities' old
    # state without attributes: their changes are notified as attributes created.
    whole = reads_attrs or checker is not None or request.app[CHANGES].watching(tenant(request))
    outcome = await write_batch(store, changes, whole=whole) if changes else BatchOutcome()
    outcome.errors = failed + outcome.errors
    await _publish(request, outcome)
    return outcome


async def _publish(request: web.Request, outcome: BatchOutcome) -> None:
    """Tell the notifier (subscriptions) what the batch wrote."""
    if outcome.changes:
        t = tenant(request)
        await request.app[CHANGES].entities_changed(
            [EntityChange(t, i, old, new) for i, old, new in outcome.changes]
        )


def _create(item: dict[str, Any], ctx: Context, now: str) -> Change:
    entity = parse_entity(item, ctx, now)

    def change(old: Entity | None) -> Entity | None:
        if old is not None:
            raise AlreadyExists(f"Entity {entity['id']!r} already exists")
        return entity

    return change


def _upsert(replace: bool) -> ChangeFactory:
    def factory(item: dict[str, Any], ctx: Context, now: str) -> Change:
        entity = parse_entity(item, ctx, now)

        def change(old: Entity | None) -> Entity | None:
            if old is None:
                return entity
            if replace:
                return replace_entity(old, entity, now)
            new, _ = append_attrs(
                old, entity["attrs"], now, types=entity["type"], scope=entity.get("scope")
            )
            return new

        return change

    return factory


def _update(no_overwrite: bool, kept: dict[str, list[str]]) -> ChangeFactory:
    """Append semantics per entity; attributes kept by noOverwrite are noted in kept."""

    def factory(item: dict[str, Any], ctx: Context, now: str) -> Change:
        attrs = parse_fragment(item, ctx, now)
        types = parse_types(item["type"], ctx) if "type" in item else []
        scope = parse_scope(item["scope"]) if "scope" in item else None
        entity_id = item["id"]

        def change(old: Entity | None) -> Entity | None:
            if old is None:
                raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
            new, result = append_attrs(
                old, attrs, now, no_overwrite=no_overwrite, types=types, scope=scope
            )
            if result.not_updated:
                kept[entity_id] = [iri for iri, _ in result.not_updated]
            return new

        return change

    return factory


def _merge(item: dict[str, Any], ctx: Context, now: str) -> Change:
    attrs = parse_fragment(item, ctx, now, partial=True)
    types = parse_types(item["type"], ctx) if "type" in item else []
    scope = parse_scope(item["scope"]) if "scope" in item else None
    entity_id = item["id"]

    def change(old: Entity | None) -> Entity | None:
        if old is None:
            raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
        return merge_entity(old, types, attrs, now, scope=scope)

    return change


@routes.post(BASE + "/create")
async def batch_create(request: web.Request) -> web.Response:
    """Create Batch of Entities (clause 6.14.3.1)."""
    check_params(request, frozenset({"local"}))
    body = await read_batch_body(request)
    outcome = await _run(request, await _entities(request, body), _create, reads_attrs=False)
    return _result(outcome, 201, created_body=True)


@routes.post(BASE + "/upsert")
async def batch_upsert(request: web.Request) -> web.Response:
    """Upsert Batch of Entities (clause 6.15.3.1): options=replace (default) or update."""
    check_params(request, frozenset({"options", "local"}))
    opts = options(request, frozenset({"replace", "update"}))
    if opts == {"replace", "update"}:
        raise BadRequestData("options replace and update cannot be combined")
    body = await read_batch_body(request)
    replace = "update" not in opts
    outcome = await _run(
        request, await _entities(request, body), _upsert(replace), reads_attrs=not replace
    )
    if outcome.errors or outcome.created:
        return _result(outcome, 201, created_body=True)
    return web.Response(status=204)


@routes.post(BASE + "/update")
async def batch_update(request: web.Request) -> web.Response:
    """Update Batch of Entities (clause 6.16.3.1): options=noOverwrite keeps what is there."""
    check_params(request, frozenset({"options", "local"}))
    opts = options(request, frozenset({"noOverwrite"}))
    body = await read_batch_body(request)
    kept: dict[str, list[str]] = {}
    items = await _entities(request, body)
    outcome = await _run(request, items, _update("noOverwrite" in opts, kept))
    for entity_id, names in kept.items():
        # Written, but not all of it: the entity is reported with what was kept (207).
        if entity_id in outcome.updated:
            outcome.updated.remove(entity_id)
            detail = "Attributes kept because of noOverwrite: " + ", ".join(names)
            outcome.errors.append((entity_id, BadRequestData(detail)))
    return _result(outcome, 204, created_body=False)


@routes.post(BASE + "/merge")
async def batch_merge(request: web.Request) -> web.Response:
    """Merge Batch of Entities (clause 6.31.3.1)."""
    check_params(request, frozenset({"local"}))
    body = await read_batch_body(request)
    outcome = await _run(request, await _entities(request, body), _merge)
    return _result(outcome, 204, created_body=False)


@routes.post(BASE + "/delete")
async def batch_delete(request: web.Request) -> web.Response:
    """Delete Batch of Entities (clause 6.17.3.1): the body is an array of entity ids."""
    check_params(request, frozenset({"local"}))
    body = await read_batch_body(request)
    _check_size(request, body)
    changes: list[tuple[str, Change]] = []
    failed: list[tuple[str, NgsiError]] = []
    for entity_id in body.data:
        try:
            check_uri(entity_id, "An entity id")
            changes.append((entity_id, _delete))
        except NgsiError as err:
            failed.append((entity_id if isinstance(entity_id, str) else "", err))
    store = await request.app[STORE].entities(tenant(request))
    outcome = await write_batch(store, changes) if changes else BatchOutcome()
    outcome.errors = failed + outcome.errors
    await _publish(request, outcome)
    return _result(outcome, 204, created_body=False)


def _delete(old: Entity | None) -> Entity | None:
    if old is None:
        raise ResourceNotFound("The entity does not exist")
    return None
