"""The @context side of validation: entity contexts and short names, offline.

An entity's "@context" is resolved only against the context.jsonld files that were loaded
(by any of their published addresses, see _aliases); URLs that are not known are left out,
as the validator never fetches. What remains is processed by the broker's own JSON-LD term
handling (broker.ngsild.context), so validation and the API agree on what a name means.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from broker.ngsild.context import (
    CORE,
    CORE_CONTEXT_URLS,
    Context,
    ContextError,
    build_context,
    missing_urls,
)

from ._aliases import canonical

__all__ = ["ContextLibrary", "ResolvedContext", "compactor", "is_term"]

#: Entity contexts are few and repeat: memoise that many of them.
_CACHE_LIMIT: Final = 256

ResolvedContext = tuple[Context, str | None]


def is_term(name: str) -> bool:
    """A short name rather than an IRI or a compact IRI."""
    return ":" not in name


class ContextLibrary:
    """Known @context documents by lookup key, and the entity contexts built from them."""

    def __init__(self) -> None:
        self._documents: dict[str, dict[str, Any]] = {}
        self._cache: dict[bytes, ResolvedContext] = {}

    def copy(self) -> ContextLibrary:
        other = ContextLibrary()
        other._documents = dict(self._documents)
        return other

    def add(self, keys: list[str], document: dict[str, Any]) -> None:
        for key in keys:
            self._documents[key] = document
        self._cache.clear()

    def document(self, url: str) -> dict[str, Any] | None:
        return self._documents.get(canonical(url))

    def resolve(self, value: object) -> ResolvedContext:
        """The Context for a "@context" value, and a problem message if it is malformed.

        Unknown URLs are dropped (their terms then expand with the core context's @vocab);
        a malformed value gives the core context and the reason.
        """
        if value is None:
            return CORE, None
        try:
            key = orjson.dumps(value)
        except TypeError:
            return CORE, "'@context' is not JSON"
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[key] = self._build(value)
        return found

    def _build(self, value: object) -> ResolvedContext:
        entries = value if isinstance(value, list) else [value]
        kept = [
            e
            for e in entries
            if not isinstance(e, str) or e in CORE_CONTEXT_URLS or self.document(e) is not None
        ]
        documents: dict[str, object] = {}
        try:
            while missing := missing_urls(kept, documents):
                known = {url: self.document(url) for url in missing}
                if any(doc is None for doc in known.values()):
                    return CORE, None  # a known context includes an unknown one
                documents.update(known)
            return build_context(kept, documents), None
        except ContextError as error:
            return CORE, f"invalid '@context': {error}"


def compactor(entity: Context, model: Context) -> Callable[[str], str]:
    """How a name given as an IRI or compact IRI gets its short name back: expanded with the
    entity's context, compacted with the model's then the entity's; kept if neither has one.
    Short names are kept as they are."""

    def compact(name: str) -> str:
        if is_term(name):
            return name
        iri = entity.expand(name)
        for context in (model, entity):
            short = context.compact(iri)
            if is_term(short):
                return short
        return name

    return compact
