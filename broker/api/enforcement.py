"""Data-model enforcement on writes (issue 5): off, warn or enforce, per tenant.

Each tenant sees the packaged models plus the ones it registered (PUT /models/{type}).
A write is checked on the entity that results from it, inside the store's
read-modify-write (so there is no lost-update race between the check and the write);
with enforcement on, the one-round-trip update paths are not used, since they write
without building the resulting entity first.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..datamodels import ModelError, ModelRegistry
from ..ngsild.context import CORE
from ..ngsild.errors import BadRequestData, NonexistentTenant
from ..ngsild.model import Entity
from ..ngsild.render import RenderOptions, TermCompactor, render_entity
from ..ngsild.uris import is_uri
from ..store import Store

__all__ = ["WARNINGS", "Checker", "ModelService", "packaged_models"]

log = logging.getLogger("kaido.models")

#: Request key of the warnings gathered in warn mode (sent back in a Warning header).
WARNINGS = web.RequestKey("model_warnings", list[str])
_RELOAD_SECONDS = 2.0
_NORMALIZED = RenderOptions()


@functools.cache
def packaged_models() -> ModelRegistry:
    """The models shipped with Kaido, loaded once per process (it takes a moment)."""
    return ModelRegistry.default()


@dataclass
class _Tenant:
    registry: ModelRegistry
    version: int
    mode: str
    checked_at: float


@dataclass
class Checker:
    """Checks entities against a tenant's models, in warn or enforce mode."""

    registry: ModelRegistry
    mode: str
    warnings: list[str] = field(default_factory=list)

    def check(self, entity: Entity, ctx: TermCompactor = CORE) -> None:
        """Raise (enforce) or note (warn) what does not fit the model of the entity's type.

        The schemas describe short attribute names: the entity is rendered with the
        request's @context, and names that stay IRIs (a context that does not define them)
        are shortened to their last segment, as the schemas name them.
        """
        document = _short_names(render_entity(entity, ctx, _NORMALIZED))
        if not self.registry.find(document):
            return  # no model for this type: nothing to enforce
        try:
            report = self.registry.validate(document)
        except ModelError as err:
            log.error("data model unusable for %s: %s", entity["id"], err)
            return
        if report["valid"]:
            return
        errors = report["errors"]
        summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
        if self.mode == "enforce":
            raise BadRequestData(
                f"Entity {entity['id']!r} does not fit the data model of its type "
                f"({len(errors)} violation(s)): {summary}",
                errors=errors,
            )
        self.warnings.append(f"{entity['id']}: {summary}")
        log.warning("entity %s does not fit its data model: %s", entity["id"], summary)

    def wrap(self, change: Callable[[Any], Any], ctx: TermCompactor = CORE) -> Callable[[Any], Any]:
        """The same change, checking the entity it produces (None or a pair are passed)."""

        def checked(old: Any) -> Any:
            out = change(old)
            new = out[0] if isinstance(out, tuple) else out
            if new is not None:
                self.check(new, ctx)
            return out

        return checked


def _short_names(document: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in document.items():
        short = name
        if is_uri(name) and name not in ("id", "type"):
            short = name.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or name
        out[short if short not in out else name] = value
    return out


class ModelService:
    """Per-tenant registries and modes, reloaded when the tenant's models change."""

    def __init__(self, store: Store, base: ModelRegistry, default_mode: str) -> None:
        self.store = store
        self.base = base
        self.default_mode = default_mode
        self._tenants: dict[str | None, _Tenant] = {}

    async def tenant(self, tenant: str | None) -> _Tenant:
        cached = self._tenants.get(tenant)
        now = time.monotonic()
        if cached is not None and now - cached.checked_at < _RELOAD_SECONDS:
            return cached
        models = await self.store.models(tenant)
        version, mode = await models.state()
        if cached is None or cached.version != version:
            registry = self.base.copy()
            for record in await models.list():
                try:
                    registry.register(record["_id"], record["schema"])
                except ModelError as err:
                    log.error("tenant %s model %s is unusable: %s", tenant, record["_id"], err)
            cached = _Tenant(registry, version, mode or self.default_mode, now)
        else:
            cached.mode = mode or self.default_mode
            cached.checked_at = now
        self._tenants[tenant] = cached
        return cached

    def forget(self, tenant: str | None) -> None:
        self._tenants.pop(tenant, None)

    async def checker(self, request: web.Request, tenant: str | None) -> Checker | None:
        """The checker for this write, or None when enforcement is off for the tenant."""
        if self.default_mode == "off" and not await self._may_be_on(tenant):
            return None
        state = await self.tenant(tenant)
        if state.mode == "off":
            return None
        checker = Checker(state.registry, state.mode)
        request[WARNINGS] = checker.warnings
        return checker

    async def _may_be_on(self, tenant: str | None) -> bool:
        cached = self._tenants.get(tenant)
        if cached is not None and time.monotonic() - cached.checked_at < _RELOAD_SECONDS:
            return cached.mode != "off"
        try:
            state = await self.tenant(tenant)
        except NonexistentTenant:  # a tenant not created yet has nothing turned on
            return False
        return state.mode != "off"
