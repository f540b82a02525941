"""scopeQ (clause 4.19) as a MongoDB filter on the entities' `scope` array.

Each term is a path pattern: ``+`` is one level, a last ``#`` any number of levels (none
included); ``;`` joins terms that must all hold, ``,`` and ``|`` alternatives. A term
becomes an anchored regex on one element of `scope`, so the store does the filtering.
"""

from __future__ import annotations

import re
from typing import Any

from ..ngsild.scopes import check_scope_query

__all__ = ["scope_filter"]


def _term_regex(term: str) -> str:
    levels = term.strip().strip("/").split("/")
    parts: list[str] = []
    for level in levels:
        if level == "#":
            return "^" + "".join(parts) + "(/.*)?$" if parts else "^/.*$"
        parts.append("/[^/]+" if level == "+" else "/" + re.escape(level))
    return "^" + "".join(parts) + "$"


def scope_filter(text: str) -> dict[str, Any]:
    check_scope_query(text)
    alternatives = []
    for alternative in re.split(r"[,|]", text):
        terms = [{"scope": {"$regex": _term_regex(t)}} for t in alternative.split(";")]
        alternatives.append(terms[0] if len(terms) == 1 else {"$and": terms})
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}
