"""Scope queries (clause 4.19, scopeQ): checking and evaluating them on an entity.

A scope is a path such as /Madrid/Gardens/ParqueNorte. In a query, ``+`` stands for one
level and a last ``#`` for any number of levels (none included); ``,`` and ``|`` mean
"or", ``;`` means "and" (it binds tighter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import BadRequestData

__all__ = ["check_scope_query", "scope_query_matches"]

_TERM = re.compile(r"/(?:#|(?:[^\W\d]\w*|\+)(?:/(?:[^\W\d]\w*|\+))*(?:/#)?)\Z")


def _alternatives(text: str) -> list[list[str]]:
    return [part.split(";") for part in re.split(r"[,|]", text)]


def check_scope_query(text: str) -> None:
    for alternative in _alternatives(text):
        for term in alternative:
            if not _TERM.match(term.strip()):
                raise BadRequestData(
                    f"Invalid scopeQ term {term!r}: use scope paths like /Madrid/Gardens, "
                    "with + for one level and a last # for any levels, joined by , or ;"
                )


def _term_matches(term: str, scope: str) -> bool:
    want = term.strip().strip("/").split("/")
    have = scope.strip("/").split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or (level != "+" and level != have[i]):
            return False
    return len(have) == len(want)


def scope_query_matches(text: str, scopes: Sequence[str] | None) -> bool:
    """Whether an entity with these scopes matches the scopeQ (it needs a scope)."""
    if not scopes:
        return False
    return any(
        all(any(_term_matches(term, s) for s in scopes) for term in alternative)
        for alternative in _alternatives(text)
    )
