"""Every loaded schema as a referencing Registry, so that "$ref"s resolve offline.

Schemas are registered under their exact URIs ("$id", file:// URI) and under lookup keys
(see _aliases). A "$ref" to any other address goes to the registry's retrieve hook, which
maps it to its key: never to the network. An address with no key fails the lookup, which
referencing reports as Unretrievable (an Unresolvable reference).
"""

from __future__ import annotations

from typing import Any

from referencing import Registry, Resource

from ._aliases import canonical, without_fragment

__all__ = ["SchemaStore"]


class SchemaStore:
    """Resources by URI and by key; a key held by several files goes to the best rank
    (0: the file's "$id", 1: its place in a folder, 2: a fallback), then to the latest."""

    def __init__(self) -> None:
        self._exact: dict[str, Resource[Any]] = {}
        self._keys: dict[str, tuple[int, int, Resource[Any]]] = {}
        self._seq = 0
        self._registry: Registry[Any] | None = None

    def copy(self) -> SchemaStore:
        other = SchemaStore()
        other._exact = dict(self._exact)
        other._keys = dict(self._keys)
        other._seq = self._seq
        return other

    def add(self, resource: Resource[Any], uris: list[str], keys: list[tuple[str, int]]) -> None:
        """Register resource under exact uris (their keys get rank 0) and extra keys."""
        self._seq += 1
        ranked = [(canonical(uri), 0) for uri in uris] + keys
        for uri in uris:
            self._exact[without_fragment(uri)] = resource
        for key, rank in ranked:
            held = self._keys.get(key)
            if held is None or rank <= held[0]:
                self._keys[key] = (rank, self._seq, resource)
        self._registry = None

    def registry(self) -> Registry[Any]:
        """The referencing Registry of everything added so far (rebuilt after an add)."""
        if self._registry is None:
            keys = {key: held[2] for key, held in self._keys.items()}

            def retrieve(uri: str) -> Resource[Any]:
                found = keys.get(canonical(uri))
                if found is None:
                    raise LookupError(f"no schema loaded for {uri}")
                return found

            # referencing's attrs classes are opaque to mypy: it sees no "retrieve" argument.
            registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg,unused-ignore]
            self._registry = registry.with_resources(self._exact.items()).crawl()
        return self._registry
