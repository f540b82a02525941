"""How a request wants entities rendered: format, sysAttrs, attrs, lang, and @context."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..ngsild.context import Context
from ..ngsild.errors import BadRequestData, OperationNotSupported
from ..ngsild.parse import check_attribute_name
from ..ngsild.render import RenderOptions
from .requests import want_format
from .responses import context_value

__all__ = [
    "Projection",
    "attrs_param",
    "not_yet",
    "prefer_json",
    "projection",
    "render_options",
    "with_context",
]

_CORE_MEMBERS = frozenset({"id", "type", "scope"})


@dataclass(frozen=True, slots=True)
class Projection:
    """pick / omit (clause 4.21): which members of each entity to keep or drop."""

    pick: frozenset[str] | None = None
    omit: frozenset[str] | None = None

    @property
    def selects(self) -> bool:
        """Whether it changes anything (most requests have neither pick nor omit)."""
        return self.pick is not None or self.omit is not None

    def apply(self, entity: dict[str, Any]) -> dict[str, Any]:
        if self.pick is not None:
            return {k: v for k, v in entity.items() if k in self.pick or k == "@context"}
        if self.omit is not None:
            return {k: v for k, v in entity.items() if k not in self.omit}
        return entity

    def empty(self, entity: dict[str, Any]) -> bool:
        return not any(k != "@context" for k in self.apply(entity))


def _member_list(value: str, name: str) -> list[str]:
    if not value or "{" in value or "}" in value:
        raise BadRequestData(
            f"{name} must be a list of entity members like id,type,name (nested projections "
            "need joins, which this broker does not support yet)"
        )
    items = [v.strip() for v in re.split(r"[,|]", value)]
    if any(not v for v in items):
        raise BadRequestData(f"{name} has an empty member: {value!r}")
    for item in items:
        if item not in _CORE_MEMBERS:
            check_attribute_name(item)
    return items


def projection(request: web.Request, ctx: Context) -> Projection:
    """The pick/omit of a request; members are matched by their compacted names."""
    pick_raw, omit_raw = request.query.get("pick"), request.query.get("omit")
    if pick_raw is None and omit_raw is None:
        return Projection()
    if "attrs" in request.query:
        raise BadRequestData("pick and omit replace attrs: do not combine them")
    pick = _member_list(pick_raw, "pick") if pick_raw is not None else None
    omit = _member_list(omit_raw, "omit") if omit_raw is not None else None
    if pick is not None and omit is not None and set(pick) & set(omit):
        raise BadRequestData("A member cannot be both picked and omitted")

    def compacted(names: list[str] | None) -> frozenset[str] | None:
        if names is None:
            return None
        return frozenset(n if n in _CORE_MEMBERS else ctx.compact(ctx.expand(n)) for n in names)

    return Projection(compacted(pick), compacted(omit))


def attrs_param(request: web.Request, ctx: Context) -> list[str] | None:
    raw = request.query.getall("attrs", [])
    if not raw:
        return None
    names = [n.strip() for chunk in raw for n in chunk.split(",") if n.strip()]
    for name in names:
        check_attribute_name(name)
    return [ctx.expand(n) for n in names]


def render_options(request: web.Request, ctx: Context, opts: set[str]) -> RenderOptions:
    return RenderOptions(
        format=want_format(request, opts),
        sys_attrs="sysAttrs" in opts,
        attrs=attrs_param(request, ctx),
        lang=request.query.get("lang"),
    )


def with_context(data: dict[str, Any], source: object) -> dict[str, Any]:
    data["@context"] = context_value(source)
    return data


def prefer_json(request: web.Request) -> bool:
    return "body=json" in request.headers.get("Prefer", "")


def not_yet(request: web.Request, names: tuple[str, ...]) -> None:
    for name in names:
        if name in request.query:
            raise OperationNotSupported(
                f"The parameter {name!r} is not supported by this broker yet"
            )
