"""How a request wants entities rendered: format, sysAttrs, attrs, lang, and @context."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..ngsild.context import Context
from ..ngsild.errors import OperationNotSupported
from ..ngsild.parse import check_attribute_name
from ..ngsild.render import RenderOptions
from .requests import want_format
from .responses import context_value

__all__ = ["attrs_param", "not_yet", "prefer_json", "render_options", "with_context"]


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
