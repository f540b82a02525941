"""One key for the many addresses under which Smart Data Models publish the same file.

A schema's "$ref" or an entity's "@context" may name a Smart Data Models file by its GitHub
Pages address, its raw.githubusercontent.com address (branch master or main, with
refs/heads/, or with no branch at all), its github.com/.../raw/ or /blob/ address, over http
or https, or by the legacy fiware.github.io address of the common schema. All of them map
to "sdm:<repository>/<path>" (lower case, as GitHub treats names case-insensitively in
practice), which is also the key of a file found at <repository>/<path> in a schema folder.
That is how $refs and @contexts resolve offline against the folders that were loaded.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Final
from urllib.parse import urlsplit

__all__ = ["SDM_COMMON_SCHEMA", "canonical", "folder_keys", "without_fragment"]

_ORG: Final = "smart-data-models"
_BRANCHES: Final = frozenset({"master", "main"})
#: Repositories of the FIWARE data models that the Smart Data Models common schema replaced.
_FIWARE_REPOS: Final = frozenset({"data-models", "datamodels"})
#: Where references to "the" common schema go.
SDM_COMMON_SCHEMA: Final = "sdm:data-models/common-schema.json"


def without_fragment(uri: str) -> str:
    """uri minus its "#..." part (an empty fragment too: "x.json#" names x.json)."""
    return uri.split("#", 1)[0]


def _sdm(repo: str, rest: list[str]) -> str | None:
    if not repo or not rest or not all(rest):
        return None
    return "sdm:" + "/".join([repo, *rest]).lower()


def _after_branch(parts: list[str]) -> list[str]:
    """The path inside a repository once the branch (if any) is skipped."""
    if len(parts) >= 3 and parts[0] == "refs" and parts[1] == "heads":
        return parts[3:]
    if parts and parts[0] in _BRANCHES:
        return parts[1:]
    return parts


def _sdm_key(host: str, parts: list[str]) -> str | None:
    if host == f"{_ORG}.github.io" and parts:
        return _sdm(parts[0], parts[1:])
    if host == "raw.githubusercontent.com" and len(parts) >= 2 and parts[0].lower() == _ORG:
        return _sdm(parts[1], _after_branch(parts[2:]))
    github = host == "github.com" and len(parts) >= 4 and parts[0].lower() == _ORG
    if github and parts[2] in ("raw", "blob"):
        return _sdm(parts[1], _after_branch(parts[3:]))
    if host == "fiware.github.io" and parts and parts[0].lower() in _FIWARE_REPOS:
        return _sdm("data-models", parts[1:])
    return None


def canonical(uri: str) -> str:
    """The lookup key of uri: "sdm:..." for Smart Data Models addresses, else the URI itself
    without its fragment and with http and https made equal."""
    bare = without_fragment(uri)
    split = urlsplit(bare)
    if split.scheme.lower() in ("http", "https") and split.netloc:
        host = split.netloc.lower()
        key = _sdm_key(host, split.path.split("/")[1:])
        if key is not None:
            return key
        return f"//{host}{split.path}" + (f"?{split.query}" if split.query else "")
    return bare


def folder_keys(root: Path, path: Path) -> list[str]:
    """The keys of a file found in a schema folder: its path below the folder, and below the
    folder's parent (so a clone of one repository, e.g. dataModel.Device, works as a root)."""
    relative = path.relative_to(root).parts
    return [f"sdm:{PurePosixPath(*parts)}".lower() for parts in (relative, (root.name, *relative))]
