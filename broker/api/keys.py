"""Typed keys of the objects the application shares with its handlers."""

from __future__ import annotations

from aiohttp import web

from ..ngsild.changes import ChangeListener
from ..settings import Settings
from ..store import Store
from .enforcement import ModelService
from .ldcontext import ContextResolver

__all__ = ["CHANGES", "CONTEXTS", "MODELS", "SETTINGS", "STARTED", "STARTED_AT", "STORE"]

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
CONTEXTS = web.AppKey("contexts", ContextResolver)
STARTED = web.AppKey("started", float)
#: The start time as an NGSI-LD DateTime (createdAt of the built-in core context).
STARTED_AT = web.AppKey("started_at", str)
#: Who hears about every write (the notifier of subscriptions).
CHANGES = web.AppKey("changes", ChangeListener)
#: Data models per tenant and their enforcement.
MODELS = web.AppKey("models", ModelService)
