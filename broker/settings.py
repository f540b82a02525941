"""Settings, read from the environment once at start-up (the README lists them)."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Settings"]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name) or default
    if raw not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 1026
    #: MongoDB connection string; None means "start the embedded dev store".
    mongo_uri: str | None = None
    #: Database name (default tenant) and prefix of the tenants' databases.
    mongo_db: str = "kaido"
    log_level: str = "INFO"
    #: Log lines as readable text, or one JSON object per line: text or json.
    log_format: str = "text"
    #: Largest request body accepted, in bytes (413 beyond).
    max_body_bytes: int = 8 * 1024 * 1024
    #: Longest request line (method, path and query string) accepted, in bytes (400
    #: beyond). aiohttp's own default, 8190, is short for a query by a list of ids.
    max_url_bytes: int = 64 * 1024
    #: Timeout for fetching a remote @context, in seconds.
    context_fetch_timeout: float = 5.0
    #: How long a fetched remote @context is reused before it is fetched again.
    context_cache_seconds: float = 3600.0
    #: Largest `limit` a query may ask for (Orion-LD's is 1000).
    max_limit: int = 1000
    #: Most entities in one batch operation.
    max_batch: int = 2000
    #: Data-model enforcement for tenants that set none: off, warn or enforce.
    model_enforcement: str = "off"
    #: Public base URL of the broker (to recognise its own hosted @contexts).
    public_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("HOST", "0.0.0.0"),
            port=_int("PORT", 1026),
            mongo_uri=os.environ.get("MONGO_URI") or None,
            mongo_db=os.environ.get("MONGO_DB", "kaido"),
            log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
            log_format=_choice("LOG_FORMAT", ("text", "json"), "text"),
            max_body_bytes=_int("MAX_BODY_BYTES", 8 * 1024 * 1024),
            max_url_bytes=_int("MAX_URL_BYTES", 64 * 1024),
            context_fetch_timeout=_float("CONTEXT_FETCH_TIMEOUT", 5.0),
            context_cache_seconds=_float("CONTEXT_CACHE_SECONDS", 3600.0),
            max_limit=_int("MAX_LIMIT", 1000),
            max_batch=_int("MAX_BATCH", 2000),
            model_enforcement=_choice("MODEL_ENFORCEMENT", ("off", "warn", "enforce"), "off"),
            public_url=os.environ.get("PUBLIC_URL") or None,
        )
