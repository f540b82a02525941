"""Notification payloads (clause 5.3.1) and how they travel (HTTP clause 6.3, MQTT 7.x).

Pure functions: the notifier renders a notification once, when the change happens (so
the receiver gets the entity as it was then, not as it is when a retry goes out), and
wraps it for its endpoint when it sends it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

from .changes import EntityChange
from .context import CORE_CONTEXT_URL
from .matching import AttributeDiff, Compiled
from .model import MAIN_MEMBER, NULL_URI, Entity, Instance
from .render import RenderOptions, TermCompactor, render_entity
from .subscription import context_link_url, notification_format

__all__ = [
    "JSON",
    "JSONLD",
    "LINK_REL",
    "Delivery",
    "change_data",
    "entity_data",
    "envelope",
    "iso_at",
    "new_notification",
]

JSON: Final = "application/json"
JSONLD: Final = "application/ld+json"
LINK_REL: Final = "http://www.w3.org/ns/json-ld#context"


def iso_at(seconds_from_now: float = 0.0) -> str:
    """A time as an NGSI-LD DateTime in the canonical form of datetimes.now_iso (so that
    stored times compare as strings)."""
    t = time.time() + seconds_from_now
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


@dataclass(slots=True)
class Delivery:
    """One notification waiting to be delivered (an outbox item)."""

    id: str
    tenant: str | None
    subscription_id: str
    #: Deliveries with the same key go out in seq order (subscription + entity).
    key: str
    seq: str
    endpoint: dict[str, Any]
    #: The notification's @context (a URL, a list or an object; None: the core context).
    context: object
    notification: dict[str, Any]
    attempts: int = 0


def _options(compiled: Compiled) -> RenderOptions:
    notification = compiled.sub["notification"]
    return RenderOptions(
        format=notification_format(compiled.sub),  # type: ignore[arg-type]
        sys_attrs=bool(notification.get("sysAttrs")),
        attrs=notification.get("attributes"),
        lang=compiled.sub.get("lang"),
    )


def _datasets(entity: Entity, wanted: list[str] | None) -> Entity:
    """Only the instances of the datasetIds the subscription asks for (clause 5.2.12)."""
    if not wanted:
        return entity
    attrs = {}
    for iri, instances in entity["attrs"].items():
        kept = [i for i in instances if i.get("datasetId", "@none") in wanted]
        if kept:
            attrs[iri] = kept
    return {**entity, "attrs": attrs}


def _previous(inst: Instance, ctx: TermCompactor) -> tuple[str, Any]:
    member = MAIN_MEMBER[inst["type"]]
    value = inst["value"]
    if inst["type"] == "VocabProperty":
        value = [ctx.compact(v) for v in value] if isinstance(value, list) else ctx.compact(value)
    return "previous" + member[0].upper() + member[1:], value


def _deleted(
    instances: list[Instance],
    ctx: TermCompactor,
    opts: RenderOptions,
    now: str,
    *,
    show_changes: bool,
    entity_gone: bool,
) -> Any:
    """A deleted attribute as notified: its main member set to NGSI-LD Null."""
    out: list[Any] = []
    for inst in instances:
        if opts.format == "keyValues":
            out.append(NULL_URI)
            continue
        kind = inst["type"]
        member = MAIN_MEMBER[kind]
        rendered: dict[str, Any] = {} if opts.format == "concise" else {"type": kind}
        if kind == "LanguageProperty" and not entity_gone:
            rendered[member] = {"@none": NULL_URI}
        else:
            rendered[member] = NULL_URI
        if "datasetId" in inst:
            rendered["datasetId"] = inst["datasetId"]
        if show_changes:
            name, value = _previous(inst, ctx)
            rendered[name] = value
        if opts.sys_attrs:
            rendered.update(createdAt=inst["createdAt"], modifiedAt=inst["modifiedAt"])
            rendered["deletedAt"] = now
        out.append(rendered)
    if opts.format == "keyValues" and len(instances) > 1:
        return {"dataset": {i.get("datasetId", "@none"): NULL_URI for i in instances}}
    return out[0] if len(out) == 1 else out


def _add_previous(rendered: Any, old: list[Instance], ctx: TermCompactor) -> None:
    """showChanges (clause 5.2.14): previousValue (previousObject, ...) on what changed."""
    items = rendered if isinstance(rendered, list) else [rendered]
    for item in items:
        if not isinstance(item, dict):
            continue
        for inst in old:
            if inst.get("datasetId") == item.get("datasetId"):
                name, value = _previous(inst, ctx)
                item[name] = value


def _wanted(names: frozenset[str], opts: RenderOptions) -> list[str]:
    return sorted(n for n in names if opts.attrs is None or n in opts.attrs)


def entity_data(compiled: Compiled, entity: Entity) -> dict[str, Any]:
    """An entity as a subscription wants it (periodic notifications)."""
    wanted = compiled.sub.get("datasetId")
    return render_entity(_datasets(entity, wanted), compiled.ctx, _options(compiled))


def change_data(
    compiled: Compiled, change: EntityChange, diff: AttributeDiff, reason: str, now: str
) -> dict[str, Any]:
    """The entity of a change-based notification, with deleted attributes as NGSI-LD Null
    (and showChanges' previous values) as the ETSI conformance suite expects."""
    opts = _options(compiled)
    ctx = compiled.ctx
    show = bool(compiled.sub["notification"].get("showChanges")) and opts.format == "normalized"
    wanted_ds = compiled.sub.get("datasetId")
    old = _datasets(change.old, wanted_ds) if change.old is not None else None
    if change.new is None:
        assert old is not None
        data: dict[str, Any] = {"id": old["id"]}
        types = [ctx.compact(t) for t in old["type"]]
        data["type"] = types[0] if len(types) == 1 else types
        if opts.sys_attrs and opts.format != "keyValues":
            data.update(createdAt=old["createdAt"], modifiedAt=old["modifiedAt"])
        data["deletedAt"] = now
        names = frozenset(old["attrs"])
        if reason == "attributeDeleted" and compiled.watched is not None:
            names &= compiled.watched
        for iri in _wanted(names, opts):
            data[ctx.compact(iri)] = _deleted(
                old["attrs"][iri], ctx, opts, now, show_changes=show, entity_gone=True
            )
        return data
    data = render_entity(_datasets(change.new, wanted_ds), ctx, opts)
    if old is None:
        return data
    if show:
        for iri in _wanted(diff.updated, opts):
            name = ctx.compact(iri)
            if name in data and iri in old["attrs"]:
                _add_previous(data[name], old["attrs"][iri], ctx)
    if diff.deleted and reason in ("attributeDeleted", "entityUpdated"):
        for iri in _wanted(diff.deleted, opts):
            if iri in old["attrs"]:
                data[ctx.compact(iri)] = _deleted(
                    old["attrs"][iri], ctx, opts, now, show_changes=show, entity_gone=False
                )
    return data


def new_notification(
    subscription_id: str, data: list[dict[str, Any]], reason: str
) -> dict[str, Any]:
    """A Notification (clause 5.3.1) without its notifiedAt (set when it is sent)."""
    return {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": subscription_id,
        "data": data,
        "triggerReason": reason,
    }


def envelope(delivery: Delivery, notified_at: str) -> tuple[dict[str, str], dict[str, Any]]:
    """Headers and body of a delivery (clause 6.3.5 and 5.2.15).

    accept application/json: the @context goes in a Link header; application/ld+json, or
    an @context that is more than one URL: it goes in the body as "@context".
    receiverInfo become headers (MQTT: metadata), and so does NGSILD-Tenant.
    """
    body = dict(delivery.notification)
    body = {
        "id": body["id"],
        "type": "Notification",
        "subscriptionId": body["subscriptionId"],
        "notifiedAt": notified_at,
        **{k: v for k, v in body.items() if k not in ("id", "type", "subscriptionId")},
    }
    headers: dict[str, str] = {}
    url = context_link_url(delivery.context)
    if delivery.endpoint.get("accept", JSON) == JSONLD or url is None:
        headers["Content-Type"] = JSONLD
        body["@context"] = CORE_CONTEXT_URL if delivery.context is None else delivery.context
    else:
        headers["Content-Type"] = JSON
        headers["Link"] = f'<{url}>; rel="{LINK_REL}"; type="{JSONLD}"'
    for item in delivery.endpoint.get("receiverInfo", ()):
        headers[item["key"]] = item["value"]
    if delivery.tenant is not None:
        headers["NGSILD-Tenant"] = delivery.tenant
    return headers, body
