"""Typed keys of the objects the application shares with its handlers."""

from __future__ import annotations

from aiohttp import web

from ..settings import Settings
from ..store import Store
from .ldcontext import ContextResolver

__all__ = ["CONTEXTS", "SETTINGS", "STARTED", "STORE"]

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
CONTEXTS = web.AppKey("contexts", ContextResolver)
STARTED = web.AppKey("started", float)
