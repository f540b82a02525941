"""Subscriptions (clauses 5.2.12, 5.2.14, 5.2.15, 5.8): checking, merging and rendering.

A subscription is kept as a plain dict with every name expanded (like entities), so that
it can be matched without a @context and compacted with any client's @context when read
back. Only what the client gave is kept (plus the default notificationTrigger), because
clients and the ETSI suite compare a read-back subscription with what they sent::

    {"id", "type": "Subscription", "entities"?: [{"type": iri, "id"?, "idPattern"?}],
     "watchedAttributes"?: [iri], "notificationTrigger": [...], "q"?: str,
     "geoQ"?: {"georel", "geometry", "coordinates", "geoproperty": iri},
     "notification": {"attributes"?: [iri], "format"?, "sysAttrs"?, "showChanges"?,
                      "endpoint": {"uri", "accept"?, "receiverInfo"?, "notifierInfo"?, ...}},
     "timeInterval"?, "throttling"?, "expiresAt"?, "isActive"?, "scopeQ"?, "lang"?, ...}

Every check raises BadRequestData with a detail saying what to fix, before anything is
stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

from .context import CORE_CONTEXT_URL, CORE_CONTEXT_URLS
from .datetimes import is_datetime
from .errors import BadRequestData
from .geoquery import parse_geoquery
from .parse import TermExpander, check_attribute_name, parse_types
from .q import linked_depth, parse_q
from .render import TermCompactor
from .scopes import check_scope_query
from .uris import check_uri, is_uri

__all__ = [
    "ACCEPTS",
    "DEFAULT_TRIGGERS",
    "FORMATS",
    "REPORT_MEMBERS",
    "SUBSCRIPTION_PREFIX",
    "TRIGGERS",
    "Status",
    "context_link_url",
    "merge_subscription",
    "notification_format",
    "parse_subscription",
    "render_subscription",
    "subscription_status",
]

Status = Literal["active", "paused", "expired"]

SUBSCRIPTION_PREFIX: Final = "urn:ngsi-ld:Subscription:"
TRIGGERS: Final = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
#: Clause 5.2.12: notificationTrigger defaults to these two.
DEFAULT_TRIGGERS: Final = ("attributeCreated", "attributeUpdated")
FORMATS: Final = ("normalized", "concise", "keyValues")
ACCEPTS: Final = ("application/json", "application/ld+json")
SCHEMES: Final = ("http", "https", "mqtt", "mqtts")
#: Read-only members (status of clauses 5.2.12 and 5.2.14): ignored in requests.
#: The delivery report kept with a subscription (clause 5.2.14, plus lastFailureReason).
REPORT_MEMBERS: Final = (
    "status",
    "timesSent",
    "timesFailed",
    "lastNotification",
    "lastSuccess",
    "lastFailure",
    "lastFailureReason",
)
_READ_ONLY: Final = frozenset({*REPORT_MEMBERS, "createdAt", "modifiedAt"})
#: Members of newer or optional features that this broker does not apply (yet).
_NOT_SUPPORTED: Final = frozenset(
    {"csf", "temporalQ", "expandValues", "join", "joinLevel", "pick", "omit", "contextSourceInfo"}
)
_MQTT_VERSIONS: Final = ("mqtt3.1.1", "mqtt5.0")

Parser = Callable[[Any, TermExpander, str], Any]


def _where(name: str) -> str:
    return f"Subscription member {name!r}"


def _string(value: Any, _: TermExpander, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{_where(name)} must be a non-empty string")
    return value


def _boolean(value: Any, _: TermExpander, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequestData(f"{_where(name)} must be true or false, got {value!r}")
    return value


def _positive(value: Any, _: TermExpander, name: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise BadRequestData(f"{_where(name)} must be a number of seconds above 0, got {value!r}")
    return value


def _names(value: Any, ctx: TermExpander, name: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{_where(name)} must be a non-empty array of attribute names")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise BadRequestData(f"{_where(name)}: {item!r} is not an attribute name")
        check_attribute_name(item)
        iri = ctx.expand(item)
        if not is_uri(iri):
            raise BadRequestData(f"{_where(name)}: {item!r} does not expand to an IRI")
        if iri not in out:
            out.append(iri)
    return out


def _entities(value: Any, ctx: TermExpander, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{_where(name)} must be a non-empty array of entity selectors")
    out: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict):
            raise BadRequestData(f"{_where(name)}: each selector must be a JSON object")
        unknown = set(item) - {"id", "idPattern", "type"}
        if unknown:
            raise BadRequestData(
                f"{_where(name)}: unknown selector member(s) {', '.join(sorted(unknown))} "
                "(allowed: id, idPattern, type)"
            )
        if "type" not in item:
            raise BadRequestData(f"{_where(name)}: each selector needs a 'type' (clause 5.2.33)")
        if not isinstance(item["type"], str):
            raise BadRequestData(f"{_where(name)}: 'type' must be one entity type name")
        selector = {"type": parse_types(item["type"], ctx)[0]}
        if "id" in item:
            check_uri(item["id"], f"{_where(name)}: 'id'")
            selector["id"] = item["id"]
        if "idPattern" in item:
            pattern = item["idPattern"]
            if not isinstance(pattern, str) or not pattern:
                raise BadRequestData(f"{_where(name)}: 'idPattern' must be a regular expression")
            try:
                re.compile(pattern)
            except re.error as err:
                raise BadRequestData(
                    f"{_where(name)}: 'idPattern' is not a valid regular expression: {err}"
                ) from None
            selector["idPattern"] = pattern
        out.append(selector)
    return out


def _triggers(value: Any, _: TermExpander, name: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{_where(name)} must be a non-empty array")
    for item in value:
        if item not in TRIGGERS:
            raise BadRequestData(
                f"{_where(name)}: unknown trigger {item!r} (use {', '.join(TRIGGERS)})"
            )
    return list(dict.fromkeys(value))


def _query(value: Any, ctx: TermExpander, name: str) -> str:
    text = _string(value, ctx, name)
    node = parse_q(unquote(text), ctx)
    if linked_depth(node):
        raise BadRequestData(
            f"{_where(name)}: linked-entity paths (rel{{...}}) are not supported in subscriptions"
        )
    return text


def _geo_query(value: Any, ctx: TermExpander, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData(f"{_where(name)} must be an object (georel, geometry, coordinates)")
    unknown = set(value) - {"georel", "geometry", "coordinates", "geoproperty"}
    if unknown:
        raise BadRequestData(f"{_where(name)}: unknown member(s) {', '.join(sorted(unknown))}")
    if not value:
        raise BadRequestData(f"{_where(name)} is empty")
    for member in ("georel", "geometry", "geoproperty"):
        if member in value and not isinstance(value[member], str):
            raise BadRequestData(f"{_where(name)}: {member!r} must be a string")
    query = parse_geoquery(
        value.get("georel"),
        value.get("geometry"),
        value.get("coordinates"),
        value.get("geoproperty"),
        ctx.expand,
    )
    if query is None:  # pragma: no cover - parse_geoquery returns None only when all absent
        raise BadRequestData(f"{_where(name)} is empty")
    return {
        "georel": query.georel_text,
        "geometry": query.geometry,
        "coordinates": query.coordinates,
        "geoproperty": query.geoproperty,
    }


def _scope_query(value: Any, ctx: TermExpander, name: str) -> str:
    text = _string(value, ctx, name)
    check_scope_query(text)
    return text


def _expires(value: Any, _: TermExpander, name: str) -> str:
    if not is_datetime(value):
        raise BadRequestData(f"{_where(name)} must be a UTC DateTime, got {value!r}")
    result: str = value
    return result


def _dataset_ids(value: Any, _: TermExpander, name: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{_where(name)} must be a non-empty array of datasetIds")
    for item in value:
        if item != "@none":
            check_uri(item, f"{_where(name)}: a datasetId")
    return list(dict.fromkeys(value))


def _context_url(value: Any, _: TermExpander, name: str) -> str:
    check_uri(value, _where(name))
    result: str = value
    return result


def _key_values(value: Any, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise BadRequestData(f"{name} must be an array of {{'key': ..., 'value': ...}} objects")
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"key", "value"}
            or not isinstance(item["key"], str)
            or not item["key"]
            or not isinstance(item["value"], str)
        ):
            raise BadRequestData(
                f"{name}: each item must be {{'key': non-empty string, 'value': string}}, "
                f"got {item!r}"
            )
        out.append({"key": item["key"], "value": item["value"]})
    return out


def _endpoint(value: Any) -> dict[str, Any]:
    where = "notification.endpoint"
    if not isinstance(value, dict):
        raise BadRequestData(f"{where} must be an object with a 'uri'")
    unknown = set(value) - {"uri", "accept", "receiverInfo", "notifierInfo", "timeout", "cooldown"}
    if unknown:
        raise BadRequestData(f"{where}: unknown member(s) {', '.join(sorted(unknown))}")
    raw = value.get("uri")
    if not is_uri(raw):
        raise BadRequestData(f"{where}.uri must be a URI, got {raw!r}")
    uri = str(raw)
    parts = urlsplit(uri)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise BadRequestData(
            f"{where}.uri must be an http, https, mqtt or mqtts URL with a host, got {uri!r}"
        )
    if parts.scheme.lower().startswith("mqtt") and not parts.path.strip("/"):
        raise BadRequestData(f"{where}.uri: an MQTT endpoint needs a topic as its path")
    out: dict[str, Any] = {"uri": uri}
    if "accept" in value:
        if value["accept"] not in ACCEPTS:
            raise BadRequestData(f"{where}.accept must be one of {', '.join(ACCEPTS)}")
        out["accept"] = value["accept"]
    for member in ("receiverInfo", "notifierInfo"):
        if member in value:
            out[member] = _key_values(value[member], f"{where}.{member}")
    for item in out.get("notifierInfo", []):
        if item["key"] == "MQTT-QoS" and item["value"] not in ("0", "1", "2"):
            raise BadRequestData(f"{where}.notifierInfo: MQTT-QoS must be 0, 1 or 2")
        if item["key"] == "MQTT-Version" and item["value"] not in _MQTT_VERSIONS:
            raise BadRequestData(f"{where}.notifierInfo: MQTT-Version must be mqtt3.1.1 or mqtt5.0")
    for member in ("timeout", "cooldown"):
        if member in value:
            out[member] = _positive(value[member], _NO_CONTEXT, f"endpoint.{member}")
    return out


def _notifier_info_text(value: Any) -> Any:
    """MQTT-QoS may come as a number (the ETSI suite sends 1): keep it as text."""
    if isinstance(value, dict) and isinstance(value.get("notifierInfo"), list):
        items = []
        for item in value["notifierInfo"]:
            given = item.get("value") if isinstance(item, dict) else None
            if isinstance(given, int | float) and not isinstance(given, bool):
                item = {**item, "value": str(given)}
            items.append(item)
        return {**value, "notifierInfo": items}
    return value


def _notification_member(name: str, value: Any, ctx: TermExpander) -> Any:
    if name == "attributes":
        return _names(value, ctx, "notification.attributes")
    if name == "format":
        if value not in FORMATS:
            raise BadRequestData(f"notification.format must be one of {', '.join(FORMATS)}")
        return value
    if name in ("sysAttrs", "showChanges"):
        return _boolean(value, ctx, f"notification.{name}")
    if name == "endpoint":
        return _endpoint(_notifier_info_text(value))
    if name in _NOT_SUPPORTED:
        raise BadRequestData(f"notification.{name} is not supported by this broker yet")
    raise BadRequestData(
        f"Unknown member notification.{name} (allowed: attributes, format, sysAttrs, "
        "showChanges, endpoint)"
    )


def _notification(value: Any, ctx: TermExpander, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData(f"{_where(name)} must be an object with an 'endpoint'")
    return {
        key: _notification_member(key, member, ctx)
        for key, member in value.items()
        if key not in _READ_ONLY
    }


class _NoContext:
    def expand(self, term: str) -> str:
        return term


_NO_CONTEXT: Final = _NoContext()

#: How each writable member is checked and stored, in the order it is rendered.
_MEMBERS: Final[dict[str, Parser]] = {
    "subscriptionName": _string,
    "description": _string,
    "entities": _entities,
    "watchedAttributes": _names,
    "notificationTrigger": _triggers,
    "timeInterval": _positive,
    "q": _query,
    "geoQ": _geo_query,
    "scopeQ": _scope_query,
    "lang": _string,
    "datasetId": _dataset_ids,
    "notification": _notification,
    "throttling": _positive,
    "expiresAt": _expires,
    "isActive": _boolean,
    "jsonldContext": _context_url,
}


def _check_member(name: str, value: Any, ctx: TermExpander) -> Any:
    parser = _MEMBERS.get(name)
    if parser is None:
        if name in _NOT_SUPPORTED:
            raise BadRequestData(f"{_where(name)} is not supported by this broker yet")
        raise BadRequestData(
            f"Unknown subscription member {name!r} (clause 5.2.12 lists the members)"
        )
    return parser(value, ctx, name)


def _check_whole(sub: dict[str, Any], now: str) -> dict[str, Any]:
    """The rules between members (clauses 5.2.12 and 5.8.1)."""
    if "entities" not in sub and "watchedAttributes" not in sub:
        raise BadRequestData("A subscription needs 'entities', 'watchedAttributes' or both")
    if "timeInterval" in sub:
        for other in ("watchedAttributes", "throttling"):
            if other in sub:
                raise BadRequestData(f"'timeInterval' and '{other}' cannot be used together")
        if "entities" not in sub:
            raise BadRequestData("A periodic subscription (timeInterval) needs 'entities'")
    notification = sub.get("notification")
    if notification is None:
        raise BadRequestData("A subscription needs a 'notification' with an 'endpoint'")
    if "endpoint" not in notification:
        raise BadRequestData("notification.endpoint is mandatory")
    if "expiresAt" in sub and _passed(sub["expiresAt"], now):
        raise BadRequestData(f"expiresAt {sub['expiresAt']} is not in the future")
    sub.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    return sub


def _ordered(sub: dict[str, Any]) -> dict[str, Any]:
    out = {"id": sub["id"], "type": "Subscription"}
    out.update((name, sub[name]) for name in _MEMBERS if name in sub)
    return out


def parse_subscription(body: object, ctx: TermExpander, now: str, new_id: str) -> dict[str, Any]:
    """A subscription from a Create Subscription payload (clause 5.8.1).

    new_id is used when the payload has no id (clause 5.8.1.4: the broker generates one).
    """
    if not isinstance(body, dict) or not body:
        raise BadRequestData("The subscription must be a non-empty JSON object")
    if body.get("type") != "Subscription":
        raise BadRequestData(
            f"The subscription 'type' must be 'Subscription', got {body.get('type')!r}"
        )
    sub_id = body.get("id", new_id)
    check_uri(sub_id, "The subscription 'id'")
    sub: dict[str, Any] = {"id": sub_id}
    for name, value in body.items():
        if name in ("id", "type", "@context") or name in _READ_ONLY:
            continue
        sub[name] = _check_member(name, value, ctx)
    return _ordered(_check_whole(sub, now))


def merge_subscription(
    current: dict[str, Any], fragment: object, ctx: TermExpander, now: str
) -> dict[str, Any]:
    """Update Subscription (clause 5.8.2): the fragment's members replace the current ones,
    null removes a member, and notification is merged member by member."""
    if not isinstance(fragment, dict) or not fragment:
        raise BadRequestData("The subscription fragment must be a non-empty JSON object")
    if fragment.get("type", "Subscription") != "Subscription":
        raise BadRequestData("The fragment's 'type' must be 'Subscription'")
    if "id" in fragment and fragment["id"] != current["id"]:
        raise BadRequestData("A subscription's id cannot be changed")
    sub = dict(current)
    for name, value in fragment.items():
        if name in ("id", "type", "@context") or name in _READ_ONLY:
            continue
        if value is None:
            if name == "notification":
                raise BadRequestData("notification is mandatory: it cannot be removed")
            if name not in _MEMBERS:
                _check_member(name, value, ctx)  # raises: unknown or unsupported
            sub.pop(name, None)  # notificationTrigger: back to the default
        elif name == "notification" and isinstance(value, dict):
            merged = dict(sub["notification"])
            for key, member in value.items():
                if key in _READ_ONLY:
                    continue
                if member is None:
                    if key == "endpoint":
                        raise BadRequestData("notification.endpoint is mandatory")
                    merged.pop(key, None)
                else:
                    merged[key] = _notification_member(key, member, ctx)
            sub["notification"] = merged
        else:
            sub[name] = _check_member(name, value, ctx)
    return _ordered(_check_whole(sub, now))


@lru_cache(maxsize=4096)
def _instant(text: str) -> datetime:
    """A UTC DateTime (checked by is_datetime: up to 9 fraction digits, . or ,)."""
    whole, _, fraction = text[:-1].replace(",", ".").partition(".")
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime.fromisoformat(whole + "+00:00").replace(microsecond=micro)


def _passed(moment: str, now: str) -> bool:
    """Whether a DateTime is at or before now (compared as instants: 10:00Z == 10:00.000Z)."""
    return _instant(moment) <= _instant(now)


def subscription_status(sub: dict[str, Any], now: str) -> Status:
    """Clause 5.2.12 status: expired past expiresAt, paused when isActive is false."""
    if "expiresAt" in sub and _passed(sub["expiresAt"], now):
        return "expired"
    if sub.get("isActive") is False:
        return "paused"
    return "active"


def notification_format(sub: dict[str, Any]) -> str:
    fmt: str = sub["notification"].get("format", "normalized")
    return fmt


def _compact_list(values: list[str], ctx: TermCompactor) -> list[str]:
    return [ctx.compact(v) for v in values]


def render_subscription(
    sub: dict[str, Any], ctx: TermCompactor, report: dict[str, Any], now: str
) -> dict[str, Any]:
    """A subscription as clients read it (clause 5.2.12), names compacted with ctx.

    report holds the delivery status (clause 5.2.14: status, timesSent, timesFailed,
    lastNotification, lastSuccess, lastFailure, and this broker's lastFailureReason);
    members that never happened are left out.
    """
    out: dict[str, Any] = {}
    for name, value in sub.items():
        if name == "entities":
            value = [{**s, "type": ctx.compact(s["type"])} for s in value]
        elif name == "watchedAttributes":
            value = _compact_list(value, ctx)
        elif name == "geoQ":
            value = {**value, "geoproperty": ctx.compact(value["geoproperty"])}
        elif name == "notification":
            value = dict(value)
            if "attributes" in value:
                value["attributes"] = _compact_list(value["attributes"], ctx)
            for key in REPORT_MEMBERS:
                if report.get(key):
                    value[key] = report[key]
        out[name] = value
    out["status"] = subscription_status(sub, now)
    return out


def context_link_url(source: object) -> str | None:
    """The one URL that names a @context source (for a Link header), or None if it takes
    more than a URL (an inline context, or several entries)."""
    if source is None:
        return CORE_CONTEXT_URL
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        urls = [s for s in source if not (isinstance(s, str) and s in CORE_CONTEXT_URLS)]
        if not urls:
            return CORE_CONTEXT_URL
        if len(urls) == 1 and isinstance(urls[0], str):
            return urls[0]
    return None
