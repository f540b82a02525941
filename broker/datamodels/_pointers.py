"""Paths in the projected document, mapped back to JSON pointers into the entity as given.

Projection moves values (normalized "value" and "object" members, {"@value": ...} wrappers,
expanded names) but keeps everything below a moved value as it was. So recording where each
moved value came from is enough: a projected path maps through its longest recorded prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["Path", "PathMap", "document_order", "pointer"]

Path = tuple[str | int, ...]


class PathMap:
    """Projected path -> path in the entity as given, for the values projection moved."""

    __slots__ = ("_moves",)

    def __init__(self, moves: Iterable[tuple[Path, Path]] = ()) -> None:
        self._moves: dict[Path, Path] = {(): ()}
        self._moves.update(moves)

    def original(self, projected: Sequence[str | int]) -> Path:
        path = tuple(projected)
        for cut in range(len(path), -1, -1):
            found = self._moves.get(path[:cut])
            if found is not None:
                return found + path[cut:]
        return path  # unreachable: () is always recorded


def pointer(path: Sequence[str | int]) -> str:
    """An RFC 6901 JSON pointer ("" is the whole document)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def document_order(document: object, ptr: str) -> tuple[int, ...]:
    """Where ptr points in document, as a sort key: members in the order they were given,
    array items by index; a member that is not there sorts after its siblings."""
    key: list[int] = []
    node = document
    for part in ptr.split("/")[1:]:
        name = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            names = list(node)
            key.append(names.index(name) if name in node else len(names))
            node = node.get(name)
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            key.append(int(name))
            node = node[int(name)]
        else:
            key.append(0)
            node = None
    return tuple(key)
